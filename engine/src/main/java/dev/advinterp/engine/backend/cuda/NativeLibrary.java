package dev.advinterp.engine.backend.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One loaded native library and the downcall handles made from it. A missing symbol is a
 * {@link CudaUnavailableException} naming the library file and the symbol, raised when the
 * bindings are built (at open), never in the middle of a computation.
 */
final class NativeLibrary {
    private static final Linker LINKER = Linker.nativeLinker();

    private final String label;
    private final Path path;
    private final SymbolLookup lookup;

    private NativeLibrary(String label, Path path, SymbolLookup lookup) {
        this.label = label;
        this.path = path;
        this.lookup = lookup;
    }

    /** Loads {@code path} for the life of the process (the CUDA libraries are never unloaded). */
    static NativeLibrary load(String label, Path path) {
        try {
            return new NativeLibrary(label, path, SymbolLookup.libraryLookup(path, Arena.global()));
        } catch (IllegalArgumentException e) {
            throw new CudaUnavailableException(label + " could not be loaded from " + path + " (" + e.getMessage()
                    + "); check that its dependencies are on LD_LIBRARY_PATH or in the same folder", e);
        }
    }

    String label() {
        return label;
    }

    Path path() {
        return path;
    }

    MethodHandle handle(String symbol, FunctionDescriptor fd) {
        MemorySegment address = lookup.find(symbol).orElseThrow(() -> new CudaUnavailableException(
                label + " at " + path + " has no function " + symbol + "; it is too old or not the library expected"));
        return LINKER.downcallHandle(address, fd);
    }

    /** The first of several names that exists (newer versioned entry points first). */
    MethodHandle handle(FunctionDescriptor fd, String... symbols) {
        for (String s : symbols) {
            if (lookup.find(s).isPresent()) return handle(s, fd);
        }
        throw new CudaUnavailableException(label + " at " + path + " has none of the functions " + String.join(", ", symbols));
    }

    Optional<MethodHandle> optionalHandle(String symbol, FunctionDescriptor fd) {
        return lookup.find(symbol).map(a -> LINKER.downcallHandle(a, fd));
    }

    /** Wraps a Throwable from invokeExact that is not already one of ours. */
    static RuntimeException rethrow(String call, Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException("native call " + call + " failed: " + t, t);
    }
}
