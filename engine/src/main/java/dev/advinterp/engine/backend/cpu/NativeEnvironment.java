package dev.advinterp.engine.backend.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The process environment as the native libraries read it (C's {@code getenv}/{@code setenv}),
 * which {@link System#getenv} does not show: the JVM keeps a snapshot from its start. The CPU
 * backend sets the thread settings of OpenBLAS and of oneDNN's libgomp here before each library
 * loads, since both read them once, when they initialise.
 */
final class NativeEnvironment {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle GETENV = LINKER.downcallHandle(LINKER.defaultLookup().find("getenv").orElseThrow(),
            FunctionDescriptor.of(ADDRESS, ADDRESS));
    private static final MethodHandle SETENV = LINKER.downcallHandle(LINKER.defaultLookup().find("setenv").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));

    private NativeEnvironment() {
    }

    /** setenv(name, value, 0): a value the environment already has stays. */
    static void setUnlessSet(String name, String value) {
        try (Arena a = Arena.ofConfined()) {
            if ((int) SETENV.invokeExact(a.allocateFrom(name), a.allocateFrom(value), 0) != 0) {
                throw new IllegalStateException("setenv(" + name + ") failed");
            }
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("setenv(" + name + ") failed", t);
        }
    }

    /** getenv(name), or empty where the variable is not set. */
    static Optional<String> get(String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment value = (MemorySegment) GETENV.invokeExact(a.allocateFrom(name));
            return value.equals(MemorySegment.NULL) ? Optional.empty() : Optional.of(value.reinterpret(4096).getString(0));
        } catch (Throwable t) {
            throw new IllegalStateException("getenv(" + name + ") failed", t);
        }
    }

    /** {@code NAME=value} for each name, or {@code NAME unset}, joined by commas: for doctor. */
    static String describe(String... names) {
        StringBuilder b = new StringBuilder();
        for (String n : names) {
            if (!b.isEmpty()) b.append(", ");
            b.append(n).append(get(n).map(v -> "=" + v).orElse(" unset"));
        }
        return b.toString();
    }
}
