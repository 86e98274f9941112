package dev.advinterp.experiments.cli;

import dev.advinterp.engine.EngineConfig;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An engine setting the engine cannot use is refused in one line before any command runs. */
class MainSettingsTest {

    @Test
    void aBadEngineSettingIsOneLineNamingIt() {
        String cache = Main.settingsError(() -> EngineConfig.read(Map.of(), Map.of("ADVINTERP_HOST_CACHE", "lots")));
        assertTrue(cache != null && cache.contains("ADVINTERP_HOST_CACHE") && cache.contains("lots"), String.valueOf(cache));
        String tile = Main.settingsError(() -> EngineConfig.read(Map.of("advinterp.conv.winograd.tile", "5"), Map.of()));
        assertTrue(tile != null && tile.contains("advinterp.conv.winograd.tile"), String.valueOf(tile));
    }

    @Test
    void goodSettingsPass() {
        assertNull(Main.settingsError(() -> EngineConfig.read(Map.of(), Map.of("ADVINTERP_HOST_CACHE", "2g"))));
        assertNull(Main.settingsError(EngineConfig::current));
    }
}
