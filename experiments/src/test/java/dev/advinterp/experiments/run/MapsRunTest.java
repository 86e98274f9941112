package dev.advinterp.experiments.run;

import dev.advinterp.experiments.attacks.AttackSpec;
import dev.advinterp.experiments.data.DataSources;
import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.experiments.data.scenes.ScenesGenerator;
import dev.advinterp.experiments.data.scenes.ScenesOptions;
import dev.advinterp.experiments.figures.Occlusion;
import dev.advinterp.experiments.testing.PlantedNet;
import dev.advinterp.nn.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Discrepancy maps find what a unit looks at, and the maps command draws them for chosen units. */
class MapsRunTest {

    @Test
    void occludingTheRedSquareIsWhatLowersTheRedUnit() {
        int s = 64;
        float[] image = new float[3 * s * s];
        java.util.Arrays.fill(image, 0.5f);
        for (int y = 20; y < 32; y++) {
            for (int x = 36; x < 48; x++) {
                image[y * s + x] = 1f;
                image[s * s + y * s + x] = 0f;
                image[2 * s * s + y * s + x] = 0f;
            }
        }
        try (PlantedNet net = new PlantedNet(s)) {
            float[] d = Occlusion.paper().map(net, "phi", 0, image, 0, 3, s, s);
            boolean[] region = Occlusion.region(d, 0.5);
            int inside = 0, outside = 0;
            for (int y = 0; y < s; y++) {
                for (int x = 0; x < s; x++) {
                    if (!region[y * s + x]) continue;
                    if (y >= 14 && y < 38 && x >= 30 && x < 54) inside++;
                    else outside++;
                }
            }
            assertTrue(inside > 50 && outside == 0, "the highlighted region lies on the red square: " + inside + " pixels on it, " + outside + " off it");
            assertEquals(21 * 21, Occlusion.paper().positions(s, s));
            assertEquals(74 * 74, Occlusion.paper().positions(224, 224), "the paper's 5,476 occlusions of a 224×224 image");
        }
    }

    @Test
    void theMapsOfChosenUnitsAreDrawnWithTheirImagesAndClasses(@TempDir Path dir) throws IOException {
        Path scenes = dir.resolve("scenes");
        new ScenesGenerator(new ScenesOptions(40, 64, 9, 0.5)).generate(scenes, false, done -> { });
        Dataset data = DataSources.open("scenes:" + scenes, false, 64);
        var settings = new MapsRun.Settings(null, List.of(0, 1), 2, 3, AttackSpec.fgsm(4), 8, new Occlusion(11, 6, 64));
        try (PlantedNet net = new PlantedNet(64); RunFolder f = RunFolder.open(dir.resolve("maps"), "maps", Map.of(), MapsRun.OUTPUTS, false, false)) {
            List<MapsRun.UnitMaps> maps = MapsRun.run(net, data, settings, null, f, "planted", null);
            assertEquals(2, maps.size());
            assertEquals(3, maps.getFirst().real().size());
            BufferedImage grid = ImageIO.read(maps.getFirst().file().toFile());
            assertTrue(grid.getWidth() >= 3 * 96 && grid.getHeight() >= 4 * 96, grid.getWidth() + "×" + grid.getHeight());
            Map<String, Object> json = Json.readObject(dir.resolve("maps").resolve(MapsRun.JSON));
            assertEquals("planted", json.get("model"));
            assertEquals(2, ((List<?>) json.get("units")).size());
        }
    }
}
