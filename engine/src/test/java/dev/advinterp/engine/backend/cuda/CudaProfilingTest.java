package dev.advinterp.engine.backend.cuda;

import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.Profiler;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Profiling the CUDA backend times the kernels' execution, not their enqueueing: a profiled call
 * waits for the stream before it starts the clock (what was queued earlier is not its time) and
 * again before it stops it; an unprofiled call does not wait at all. Over the stand-in runtime that
 * runs the kernels on the CPU and counts the waits (skipped, with the reason, without g++).
 */
class CudaProfilingTest {

    @Test
    void aProfiledCallWaitsForTheStreamBeforeAndAfterItsKernelsAndAnUnprofiledOneDoesNot() {
        assumeTrue(HostKernelRuntime.unavailableReason().isEmpty(), () -> HostKernelRuntime.unavailableReason().orElse(""));
        HostKernelRuntime rt = HostKernelRuntime.open(16L << 20);
        try (CudaBackend gpu = HostKernelRuntime.backendOver(rt); Scope s = Scope.open(gpu)) {
            Tensor x = Tensor.of(new float[]{-1, 2, -3, 4}, 4), y = Tensor.zeros(4);
            assertNull(gpu.profiler());
            int before = rt.synchronizations();
            gpu.reluForward(x, y);
            assertEquals(before, rt.synchronizations(), "an unprofiled launch returns without waiting");

            Profiler p = gpu.startProfiling();
            before = rt.synchronizations();
            int launches = rt.launches();
            gpu.reluForward(x, y);
            assertEquals(launches + 1, rt.launches());
            assertEquals(before + 2, rt.synchronizations(), "a profiled call waits before and after its kernel");
            assertEquals(1, p.calls("reluForward"));
            assertTrue(p.nanos("reluForward") > 0);
            assertTrue(p.report().contains("reluForward"), p.report());
            gpu.stopProfiling();
            assertArrayEquals(new float[]{0, 2, 0, 4}, y.toArray());
        }
    }
}
