package dev.advinterp.engine.backend.cuda;

import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** What a machine without the NVIDIA driver is told: a sentence naming libcuda.so.1, never a crash. */
class CudaAvailabilityTest {

    private static boolean driverFound() {
        return CudaLibraries.entry(CudaLibraries.discover(), CudaLibraries.DRIVER).present();
    }

    @Test
    void withoutTheDriverTheReasonNamesLibcudaAndIsCached() {
        assumeFalse(driverFound(), "libcuda.so.1 is present here; this test is for machines without the driver");
        Optional<String> reason = CudaBackend.unavailableReason();
        assertTrue(reason.isPresent());
        assertTrue(reason.get().contains("libcuda.so.1 not found"), reason.get());
        assertEquals(reason, CudaBackend.unavailableReason());
    }

    @Test
    void openingWithoutTheDriverThrowsUnavailableWithTheReason() {
        assumeFalse(driverFound(), "libcuda.so.1 is present here; this test is for machines without the driver");
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> CudaBackend.open(0));
        assertTrue(e.getMessage().contains("libcuda.so.1"), e.getMessage());
    }

    @Test
    void aNegativeOrdinalIsAnArgumentError() {
        assertThrows(IllegalArgumentException.class, () -> CudaBackend.open(-1));
    }
}
