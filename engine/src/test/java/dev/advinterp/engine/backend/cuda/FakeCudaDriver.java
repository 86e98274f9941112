package dev.advinterp.engine.backend.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * kernels/src/test/host/fake_driver.cpp built as a {@code libcuda.so.1}: the driver API calls the
 * engine binds, compiled against CUDA's own cuda.h, on host memory, with kernel launches run on
 * the CPU. Opening {@link CudaDriver} and {@link DriverRuntime} on it runs the real bindings
 * (every FFM call, its argument order and widths, out-parameters, error codes and names) and the
 * backend's use of them without a GPU. Needs g++ and cuda.h (the CUDA toolkit's include folder).
 */
public final class FakeCudaDriver {
    private static Optional<String> unavailable;
    private static Path library;
    private static MethodHandle state;

    private FakeCudaDriver() {
    }

    private static Optional<Path> cudaInclude() {
        String home = System.getenv("CUDA_HOME");
        return Stream.of(home == null ? null : Path.of(home, "include"), Path.of("/usr/local/cuda/include"))
                .filter(p -> p != null && Files.isRegularFile(p.resolve("cuda.h"))).findFirst();
    }

    /** Why the fake driver cannot be built here, or empty; builds it once per process. */
    public static synchronized Optional<String> unavailableReason() {
        if (unavailable == null) {
            Optional<Path> include = cudaInclude();
            if (include.isEmpty()) {
                unavailable = Optional.of("cuda.h not found ($CUDA_HOME/include, /usr/local/cuda/include): "
                        + "the fake driver is compiled against the CUDA toolkit's header");
                return unavailable;
            }
            Path out = Path.of("target", "kernels-host", "fake-driver", "libcuda.so.1").toAbsolutePath();
            unavailable = HostKernelRuntime.compile(out, List.of("fake_driver.cpp"),
                    List.of("-I" + include.get(), "-Wl,-soname,libcuda.so.1"));
            if (unavailable.isEmpty()) {
                library = out;
                SymbolLookup lib = SymbolLookup.libraryLookup(out, Arena.global());
                state = Linker.nativeLinker().downcallHandle(lib.find("adv_fake_cuda_state").orElseThrow(),
                        FunctionDescriptor.ofVoid(ADDRESS));
            }
        }
        return unavailable;
    }

    /** The fake libcuda.so.1 (after {@link #unavailableReason()} said it could be built). */
    public static Path library() {
        if (unavailableReason().isPresent()) throw new IllegalStateException(unavailableReason().get());
        return library;
    }

    /**
     * A CUDA backend without cuBLAS and cuDNN over the real {@link CudaDriver} bindings and
     * {@link DriverRuntime}, on the fake driver.
     */
    public static CudaBackend openBackend() {
        return CudaBackend.withoutLibraries(new DriverRuntime(new CudaDriver(library()), 0));
    }

    /** What the fake driver holds now. */
    public record State(long blocks, long bytes, long streams, long modules, long events, long contextRefs, long hostBlocks) {
    }

    public static State state() {
        library();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG, 7);
            state.invokeExact(out);
            long[] v = out.toArray(JAVA_LONG);
            return new State(v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("adv_fake_cuda_state", t);
        }
    }

    /** The raw bindings on the fake driver, for tests of CudaDriver itself. */
    static CudaDriver driver() {
        return new CudaDriver(library());
    }
}
