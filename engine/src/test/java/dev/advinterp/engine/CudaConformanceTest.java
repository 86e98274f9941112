package dev.advinterp.engine;

import dev.advinterp.engine.backend.Backends;
import dev.advinterp.engine.backend.cuda.CudaBackend;
import org.junit.jupiter.api.BeforeAll;

/**
 * {@link CudaConformanceCases} on the GPU: the process's CUDA backend (GPU 0) against the CPU
 * backend. On a machine without a usable GPU every test is skipped with the reason, never passed.
 */
class CudaConformanceTest extends CudaConformanceCases {

    @BeforeAll
    static void openGpu() {
        withCublas = true;
        withCudnn = true;
        unavailable = CudaBackend.unavailableReason();
        cpu = Backends.cpu();
        if (unavailable.isPresent()) {
            System.err.println("CudaConformanceTest: every test skipped, CUDA unavailable: " + unavailable.get());
            return;
        }
        gpu = Backends.cuda();
        System.err.println("CudaConformanceTest: " + gpu.describe() + " against " + cpu.describe());
    }
}
