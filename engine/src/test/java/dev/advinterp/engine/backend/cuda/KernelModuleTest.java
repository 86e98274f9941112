package dev.advinterp.engine.backend.cuda;

import dev.advinterp.kernels.KernelImages;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The backend's view of the kernel images agrees with what the kernels module ships. */
class KernelModuleTest {

    @Test
    void everyLaunchedKernelIsInTheImagesAndEveryImageKernelIsLaunched() {
        assertEquals(Set.copyOf(KernelImages.KERNELS), CudaKernels.SIGNATURES.keySet());
        assertEquals(KernelImages.REDUCTION_BLOCKS, CudaKernels.REDUCTION_BLOCKS);
        assertTrue(CudaKernels.BLOCK <= KernelImages.THREADS_PER_BLOCK);
    }

    @Test
    void imagesArePickedByComputeCapabilityAndThePtxNamesEveryKernel() {
        KernelModule.Image hopper = KernelModule.imageFor(9, 0), ampere = KernelModule.imageFor(8, 6);
        assertEquals(KernelImages.CUBIN_SM90, hopper.name());
        assertEquals(KernelImages.CUBIN_SM80, ampere.name());
        assertFalse(hopper.ptx());
        KernelModule.Image blackwell = KernelModule.imageFor(10, 0);
        assertTrue(blackwell.ptx());
        String ptx = new String(blackwell.bytes(), StandardCharsets.US_ASCII);
        for (String k : CudaKernels.SIGNATURES.keySet()) assertTrue(ptx.contains(".entry " + k), k + " missing from the PTX");
    }

    @Test
    void aGpuOlderThanAmpereIsUnavailableWithAReason() {
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> KernelModule.imageFor(7, 5));
        assertTrue(e.getMessage().contains("7.5"), e.getMessage());
    }
}
