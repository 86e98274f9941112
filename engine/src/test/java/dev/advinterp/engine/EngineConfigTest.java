package dev.advinterp.engine;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every knob read from properties and environment in one place, with its default; overrides restore what was in force. */
class EngineConfigTest {

    @Test
    void defaultsWhenNothingIsSet() {
        EngineConfig c = EngineConfig.read(Map.of("user.home", "/home/u"), Map.of());
        assertEquals("cpu", c.device());
        assertFalse(c.profile());
        assertEquals(Runtime.getRuntime().availableProcessors(), c.threads());
        assertTrue(c.winograd());
        assertEquals(2, c.winogradTile());
        assertFalse(c.convMeasure());
        assertEquals(ChannelsLast.Mode.OFF, c.channelsLast());
        assertEquals("auto", c.blas());
        assertEquals(Path.of("/home/u", ".cache", "advinterp"), c.cache());
        assertNull(c.cudaPath());
        assertNull(c.openblasCoreType());
    }

    @Test
    void channelsLastIsOffInferenceOrOnAndNothingElse() {
        String[] words = {"off", "Inference", " ON "};
        for (int i = 0; i < words.length; i++) {
            assertEquals(ChannelsLast.Mode.values()[i], EngineConfig.read(Map.of("advinterp.channels.last", words[i]), Map.of()).channelsLast());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EngineConfig.read(Map.of("advinterp.channels.last", "true"), Map.of()));
        assertTrue(e.getMessage().contains("off, inference or on"), e.getMessage());
    }

    @Test
    void eachKnobIsReadFromItsPropertyOrVariable() {
        EngineConfig c = EngineConfig.read(Map.of("advinterp.device", " CUDA ", "advinterp.profile", "true", "advinterp.threads", "3",
                        "advinterp.conv.winograd", "FALSE", "advinterp.conv.winograd.tile", "4", "advinterp.blas", "system",
                        "advinterp.conv.measure", " True "),
                Map.of("ADVINTERP_CACHE", "/cache", "ADVINTERP_CUDA_PATH", "/a:/b", "LD_LIBRARY_PATH", "/c",
                        "VIRTUAL_ENV", "/venv", "HOME", "/h", "OPENBLAS_CORETYPE", "Haswell"));
        assertEquals("cuda", c.deviceWord());
        assertTrue(c.profile());
        assertEquals(3, c.threads());
        assertFalse(c.winograd());
        assertEquals(4, c.winogradTile());
        assertTrue(c.convMeasure());
        assertEquals("system", c.blas());
        assertEquals(Path.of("/cache"), c.cache());
        assertEquals("/a:/b", c.cudaPath());
        assertEquals("/c", c.libraryPath());
        assertEquals("/venv", c.virtualEnv());
        assertEquals("/h", c.home());
        assertEquals("Haswell", c.openblasCoreType());
        // the environment variable wins over the property, as before
        assertEquals("none", EngineConfig.read(Map.of("advinterp.blas", "system"), Map.of("ADVINTERP_BLAS", "none")).blas());
        assertEquals("auto", EngineConfig.read(Map.of("advinterp.dnnl", "none"), Map.of("ADVINTERP_DNNL", "auto")).dnnl());
        assertEquals("auto", EngineConfig.read(Map.of(), Map.of()).dnnl(), "oneDNN by default");
        assertEquals("auto", EngineConfig.read(Map.of(), Map.of()).hostCache(), "the host cache on by default");
        assertEquals("512m", EngineConfig.read(Map.of("advinterp.host.cache", "2g"), Map.of("ADVINTERP_HOST_CACHE", "512m")).hostCache(),
                "the environment first");
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> EngineConfig.read(Map.of(), Map.of("ADVINTERP_HOST_CACHE", "plenty")));
        assertTrue(bad.getMessage().contains("ADVINTERP_HOST_CACHE"), bad.getMessage());
    }

    @Test
    void aThreadCountThatIsNotANumberKeepsTheDefaultAndATileOtherThan2Or4IsRefused() {
        assertEquals(Runtime.getRuntime().availableProcessors(), EngineConfig.read(Map.of("advinterp.threads", "many"), Map.of()).threads());
        assertEquals(1, EngineConfig.read(Map.of("advinterp.threads", "-2"), Map.of()).threads());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EngineConfig.read(Map.of("advinterp.conv.winograd.tile", "3"), Map.of()));
        assertTrue(e.getMessage().contains("advinterp.conv.winograd.tile") && e.getMessage().contains("'3'"), e.getMessage());
    }

    @Test
    void anOverrideHoldsUntilClosedAndNests() {
        EngineConfig before = EngineConfig.current();
        try (var outer = EngineConfig.override(before.withProfile(true))) {
            assertTrue(EngineConfig.current().profile());
            try (var inner = EngineConfig.override(EngineConfig.current().withDevice("auto"))) {
                assertEquals("auto", EngineConfig.current().device());
                assertTrue(EngineConfig.current().profile());
            }
            assertEquals(before.device(), EngineConfig.current().device());
            assertTrue(EngineConfig.current().profile());
        }
        assertSame(before, EngineConfig.current());
    }
}
