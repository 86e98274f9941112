package dev.advinterp.engine;

import dev.advinterp.engine.backend.cuda.CudaBackend;
import dev.advinterp.engine.backend.cuda.DeviceOutOfMemoryException;
import dev.advinterp.engine.backend.cuda.HostKernelRuntime;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link CudaConformanceCases} on a machine without a GPU: the CUDA backend over
 * {@link HostKernelRuntime}, which runs the project's CUDA C kernels on the CPU (compiled with
 * g++) on host memory. Every test whose primitive goes through the kernels runs, with the same
 * inputs and tolerances as on a GPU, against the CPU backend; those that need cuBLAS or cuDNN are
 * skipped with the reason. What it shows: the kernels compute what the CPU backend computes, and
 * CudaBackend's launches (arguments, grids, scratch buffers, the host side of the reductions) are
 * right. What it cannot show: anything about a real GPU (warps, memory ordering, its float
 * rounding of exp/log, speed). Skipped, with the reason, where g++ is missing.
 */
class CudaKernelsOnHostTest extends CudaConformanceCases {
    private static final long CAPACITY = 1L << 30;
    private static CudaBackend emulated;

    @BeforeAll
    static void openOnTheCpu() {
        cpu = dev.advinterp.engine.backend.Backends.cpu();
        withCublas = false;
        withCudnn = false;
        unavailable = HostKernelRuntime.unavailableReason();
        if (unavailable.isPresent()) {
            System.err.println("CudaKernelsOnHostTest: every test skipped: " + unavailable.get());
            return;
        }
        emulated = HostKernelRuntime.openBackend(CAPACITY);
        gpu = emulated;
        System.err.println("CudaKernelsOnHostTest: " + gpu.describe() + " against " + cpu.describe());
    }

    @AfterAll
    static void closeEmulated() {
        if (emulated != null) emulated.close();
        gpu = null;
        withCublas = true;
        withCudnn = true;
        unavailable = null;
    }

    /**
     * The allocator's out-of-memory path over a 16 MiB runtime: the error names the size asked
     * for, and a later request that fits only once the cache is released succeeds.
     */
    @Test
    void outOfMemoryIsReportedAndTheCacheIsReleasedBeforeGivingUp() {
        try (CudaBackend small = HostKernelRuntime.openBackend(16L << 20)) {
            try (Scope s = Scope.open()) {
                Tensor a = Tensor.empty(small, Shape.of(1 << 20), "4 MiB");
                DeviceOutOfMemoryException e = assertThrows(DeviceOutOfMemoryException.class,
                        () -> Tensor.empty(small, Shape.of(4 << 20), "16 MiB more"));
                assertEquals(16L << 20, e.askedBytes());
                small.fill(a, 1.5f);
                assertEquals(1.5 * (1 << 20), small.sum(a)); // its scratch takes a 2 MiB small-block segment
            }
            try (Scope s = Scope.open()) {
                // 12 MiB: 4 MiB cached + 2 MiB scratch + 12 MiB is over 16, so the cached 4 MiB must go back first
                Tensor big = Tensor.empty(small, Shape.of((12 << 20) / 4 - 1024), "almost 12 MiB");
                small.fill(big, 0.5f);
                assertEquals(0.5 * big.numel(), small.sum(big));
            }
        }
    }

    @Test
    void closingTheBackendFreesEveryBlock() {
        HostKernelRuntime rt = HostKernelRuntime.open(64L << 20);
        CudaBackend b = HostKernelRuntime.backendOver(rt);
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.empty(b, Shape.of(3, 1000), "logits");
            b.fill(x, 0.25f);
            int[] arg = new int[3];
            b.argmax(x, 3, 1000, arg);
            b.sum(x);
        }
        assertTrue(rt.liveBlocks() > 0, "the backend keeps its cache and scratch buffers until closed");
        b.close();
        assertEquals(0, rt.liveBlocks(), "blocks left after close");
        assertEquals(0, rt.liveBytes());
    }

    /** The backend's memory statistics count its own (device) blocks, not host memory. */
    @Test
    void memoryInUseAndPeakCountTheBackendsBlocks() {
        try (CudaBackend b = HostKernelRuntime.openBackend(64L << 20)) {
            long base = b.memoryInUse(), host = dev.advinterp.engine.memory.NativeMemory.currentBytes();
            b.resetMemoryPeak();
            try (Scope s = Scope.open()) {
                Tensor x = Tensor.empty(b, Shape.of(1 << 20), "4 MiB");
                assertEquals(base + (4L << 20), b.memoryInUse());
                assertEquals(host, dev.advinterp.engine.memory.NativeMemory.currentBytes(), "host memory moved");
                b.fill(x, 1f);
                b.sum(x);
                assertTrue(b.workspaceBytes() >= 256 * Double.BYTES, "the reduction partials are a kept buffer");
            }
            long kept = b.workspaceBytes();
            assertEquals(base + kept, b.memoryInUse(), "after the scope only the kept buffers remain");
            assertTrue(b.memoryPeak() >= base + (4L << 20) + kept, "peak " + b.memoryPeak());
            b.resetMemoryPeak();
            assertEquals(b.memoryInUse(), b.memoryPeak());
        }
    }
}
