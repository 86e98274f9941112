package dev.advinterp.engine.backend;

import dev.advinterp.engine.Device;
import dev.advinterp.engine.backend.cuda.CudaBackend;
import dev.advinterp.engine.backend.cuda.CudaUnavailableException;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class BackendsTest {

    @Test
    void deviceWordsParseInAnyCaseAndOthersAreRefusedByName() {
        assertEquals(DeviceChoice.CUDA, DeviceChoice.parse("cuda"));
        assertEquals(DeviceChoice.CPU, DeviceChoice.parse(" CPU "));
        assertEquals(DeviceChoice.AUTO, DeviceChoice.parse("Auto"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DeviceChoice.parse("gpu"));
        assertTrue(e.getMessage().contains("'gpu'") && e.getMessage().contains("cuda, cpu or auto"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DeviceChoice.parse(null));
        assertEquals("auto", DeviceChoice.AUTO.word());
    }

    @Test
    void cpuIsTheCpuBackend() {
        DeviceSelection s = Backends.select(DeviceChoice.CPU);
        assertSame(Backends.cpu(), s.backend());
        assertTrue(s.describe().startsWith("cpu (asked: cpu"), s.describe());
    }

    @Test
    void withoutAGpuAutoFallsBackToTheCpuAndSaysWhy() {
        Optional<String> reason = CudaBackend.unavailableReason();
        assumeTrue(reason.isPresent(), "CUDA is usable here; the fallback is not exercised");
        DeviceSelection s = Backends.select(DeviceChoice.AUTO);
        assertSame(Backends.cpu(), s.backend());
        assertTrue(s.reason().contains(reason.get()), s.reason());
        assertTrue(s.describe().contains("asked: auto"), s.describe());
    }

    @Test
    void withoutAGpuCudaIsRefusedWithTheReason() {
        Optional<String> reason = CudaBackend.unavailableReason();
        assumeTrue(reason.isPresent(), "CUDA is usable here; the refusal is not exercised");
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> Backends.select(DeviceChoice.CUDA));
        assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "the refusal must say why");
        Backend before = Backends.defaultBackend();
        assertThrows(CudaUnavailableException.class, () -> Backends.useDevice(DeviceChoice.CUDA));
        assertSame(before, Backends.defaultBackend(), "a refused device must leave the default as it was");
    }

    @Test
    void useDeviceSetsTheDefaultThatFactoriesAllocateOn() {
        Backend before = Backends.defaultBackend();
        try {
            DeviceSelection s = Backends.useDevice(DeviceChoice.CPU);
            assertEquals(Device.CPU, Backends.defaultBackend().device());
            assertSame(s.backend(), Backends.defaultBackend());
        } finally {
            Backends.setDefault(before);
        }
        assertThrows(IllegalArgumentException.class, () -> Backends.setDefault(null));
    }
}
