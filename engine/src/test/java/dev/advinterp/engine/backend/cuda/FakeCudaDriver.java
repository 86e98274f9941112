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
 * kernels/src/test/host/fake_driver.cpp built as a stand-in for libcuda.so.1: the driver API calls the
 * engine binds, compiled against CUDA's own cuda.h, on host memory, with kernel launches run on
 * the CPU; and, in the same library, fake_cublas.cpp as a stand-in for libcublas whose SGEMM is a
 * column-major reference queued on the driver's stream. The library gets a file name of its own, so nothing that looks for the real libraries by
 * name can load them. Opening {@link CudaDriver} and {@link DriverRuntime} on it runs the real bindings
 * (every FFM call, its argument order and widths, out-parameters, error codes and names) and the
 * backend's use of them without a GPU. Needs g++ and cuda.h (the CUDA toolkit's include folder).
 */
public final class FakeCudaDriver {
    private static Optional<String> unavailable;
    private static Path library, cublasLibrary;
    private static MethodHandle state, blasState;

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
            // Names (and no soname) that no library lookup by the real names can pick up: once a
            // library with soname libcuda.so.1 is loaded, dlopen("libcuda.so.1") anywhere in the
            // process (the probe, real cuBLAS or cuDNN in a later test) would get it.
            Path out = Path.of("target", "kernels-host", "fake-driver", "libadvinterp_fake_cuda.so").toAbsolutePath();
            // one library for both: the cuBLAS stand-in queues its SGEMM on the driver's streams
            unavailable = HostKernelRuntime.compile(out, List.of("host_launch.cpp", "fake_driver.cpp", "fake_cublas.cpp"),
                    List.of("-I" + include.get(), "-Wl,--no-undefined"));
            if (unavailable.isEmpty()) {
                library = out;
                cublasLibrary = out;
                SymbolLookup lib = SymbolLookup.libraryLookup(out, Arena.global());
                state = Linker.nativeLinker().downcallHandle(lib.find("adv_fake_cuda_state").orElseThrow(),
                        FunctionDescriptor.ofVoid(ADDRESS));
                blasState = Linker.nativeLinker().downcallHandle(lib.find("adv_fake_cublas_state").orElseThrow(),
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
     * A CUDA backend over the real {@link CudaDriver} and {@link Cublas} bindings and
     * {@link DriverRuntime}, on the fake driver and the fake cuBLAS (fake_cublas.cpp, a reference
     * column-major SGEMM); without cuDNN.
     */
    public static CudaBackend openBackend() {
        DriverRuntime rt = new DriverRuntime(new CudaDriver(library()), 0);
        return CudaBackend.over(rt, new Cublas(cublasLibrary, rt.stream()), null);
    }

    /** Live cuBLAS handles and SGEMM calls so far in the fake cuBLAS. */
    public static long[] cublasState() {
        library();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG, 2);
            blasState.invokeExact(out);
            return out.toArray(JAVA_LONG);
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("adv_fake_cublas_state", t);
        }
    }

    /** What the fake driver holds now. */
    public record State(long blocks, long bytes, long streams, long modules, long events, long contextRefs, long hostBlocks,
                        long queuedOperations) {
    }

    public static State state() {
        library();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG, 8);
            state.invokeExact(out);
            long[] v = out.toArray(JAVA_LONG);
            return new State(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("adv_fake_cuda_state", t);
        }
    }

    /** The raw bindings on the fake driver, for tests of CudaDriver itself. */
    static CudaDriver driver() {
        return new CudaDriver(library());
    }
}
