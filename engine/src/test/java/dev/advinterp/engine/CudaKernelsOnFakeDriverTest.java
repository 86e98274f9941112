package dev.advinterp.engine;

import dev.advinterp.engine.backend.Backends;
import dev.advinterp.engine.backend.cuda.CudaBackend;
import dev.advinterp.engine.backend.cuda.FakeCudaDriver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;

import static dev.advinterp.engine.TestData.normal;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link CudaConformanceCases} through the real driver and cuBLAS bindings: the CUDA backend over
 * {@code DriverRuntime}, {@code CudaDriver} and {@code Cublas}, loaded on
 * kernels/src/test/host/fake_driver.cpp, a libcuda.so.1 compiled against CUDA's cuda.h that keeps
 * "device" memory on the host and runs the kernels on the CPU, and on fake_cublas.cpp, whose
 * SGEMM is a column-major reference (so the row-major to column-major operand swap runs for
 * real, every transpose, offset and beta of the GEMM test). Every FFM call the backend makes to the driver (allocation, transfers in
 * both directions through the pinned staging buffer, copies, 32-bit fills, module loading,
 * function lookup, launches with their parameter arrays, context binding per thread) runs here and
 * must deliver the right values; at the end the fake must hold no memory, stream, module or
 * context reference. Tests that need cuDNN are skipped with the reason, and so is the
 * whole class without g++ or cuda.h.
 */
class CudaKernelsOnFakeDriverTest extends CudaConformanceCases {
    private static CudaBackend onFake;
    private static FakeCudaDriver.State before;
    private static long[] blasBefore;

    @BeforeAll
    static void openOnTheCpu() {
        cpu = Backends.cpu();
        withCublas = true;
        withCudnn = false;
        unavailable = FakeCudaDriver.unavailableReason();
        if (unavailable.isPresent()) {
            System.err.println("CudaKernelsOnFakeDriverTest: every test skipped: " + unavailable.get());
            return;
        }
        before = FakeCudaDriver.state();
        blasBefore = FakeCudaDriver.cublasState();
        onFake = FakeCudaDriver.openBackend();
        gpu = onFake;
        System.err.println("CudaKernelsOnFakeDriverTest: " + gpu.describe() + " against " + cpu.describe());
    }

    @AfterAll
    static void closeAndCheckNothingIsLeft() {
        gpu = null;
        withCublas = true;
        withCudnn = true;
        unavailable = null;
        if (onFake == null) return;
        onFake.close();
        onFake = null;
        assertEquals(before, FakeCudaDriver.state(), "what the driver held before the backend opened and after it closed "
                + "(blocks, bytes, streams, modules, events, context references, pinned buffers)");
        long[] blasAfter = FakeCudaDriver.cublasState();
        assertEquals(blasBefore[0], blasAfter[0], "cuBLAS handles left after close");
        assertTrue(blasAfter[1] > blasBefore[1], "no SGEMM reached the cuBLAS stand-in");
    }

    /** 20 MiB each way: more than the 16 MiB staging buffer, so the transfers go in chunks. */
    @Test
    void transfersLargerThanTheStagingBufferGoInChunks() {
        int n = 5 << 20;
        float[] v = normal(new SplittableRandom(3), n, 1);
        try (Scope s = Scope.open()) {
            Tensor t = Tensor.empty(gpu, Shape.of(n), "20 MiB");
            gpu.copyFromHost(v, 0, t);
            float[] back = new float[n + 7];
            gpu.copyToHost(t, back, 7);
            assertArrayEquals(v, java.util.Arrays.copyOfRange(back, 7, n + 7));
        }
    }

    /** The driver's context is per thread: a call from a new thread must bind it first. */
    @Test
    void aCallFromAnotherThreadBindsTheContext() throws InterruptedException {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicReference<Double> sum = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try (Scope s = Scope.open()) {
                Tensor x = Tensor.empty(gpu, Shape.of(1000), "from another thread");
                gpu.fill(x, 0.5f);
                sum.set(gpu.sum(x));
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        t.join();
        assertNull(failure.get(), () -> "on another thread: " + failure.get());
        assertEquals(500.0, sum.get());
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.empty(gpu, Shape.of(10), "back on the test thread");
            gpu.fill(x, 2f);
            assertEquals(20.0, gpu.sum(x));
        }
    }

    /** GEMM runs in stream order: a fill queued before it has happened, with beta 0 the NaNs are not read. */
    @Test
    void gemmRunsInOrderWithTheKernelsQueuedBeforeIt() {
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.empty(gpu, Shape.of(2, 3), "a"), b = Tensor.empty(gpu, Shape.of(3, 2), "b");
            Tensor c = Tensor.empty(gpu, Shape.of(2, 2), "c");
            gpu.fill(a, 1f);
            gpu.fill(b, 2f);
            gpu.fill(c, Float.NaN);
            gpu.gemm(false, false, 2, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f, c, 0, 2);
            assertArrayEquals(new float[]{6f, 6f, 6f, 6f}, c.toArray());
        }
    }
}
