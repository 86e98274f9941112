package dev.advinterp.experiments.run;

import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.experiments.data.Sample;
import dev.advinterp.experiments.data.broden.BrodenDataset;
import dev.advinterp.experiments.data.scenes.Difficulty;
import dev.advinterp.experiments.data.scenes.ScenesGenerator;
import dev.advinterp.experiments.data.scenes.ScenesOptions;
import dev.advinterp.experiments.io.ImageCodec;
import dev.advinterp.experiments.report.StudyReport;
import dev.advinterp.nn.models.Architecture;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.models.ModelConfig;
import dev.advinterp.nn.models.ModelFiles;
import dev.advinterp.nn.models.Models;
import dev.advinterp.nn.io.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The quick preset end to end (about a minute on two cores): every table and figure reaches the
 * report, an interrupted study continues without redoing a finished stage, and a folder holding
 * another study is refused.
 */
class ReproduceRunTest {

    private static String run(Preset p, Path out, boolean force) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream console = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            ReproduceRun.run(p, out, force, "cpu (test)", console);
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void theQuickPresetWritesTheWholeReportAndAContinuedRunRedoesOnlyWhatWasNotFinished(@TempDir Path dir) throws IOException {
        Preset quick = Preset.of("quick");
        Path out = dir.resolve("study");
        String first = run(quick, out, false);
        assertTrue(first.contains("[22/22] write the report: done"), first);

        String md = Files.readString(out.resolve(StudyReport.MARKDOWN));
        for (String heading : List.of("## The models", "## Table 3", "## Table 1", "## Table 2", "## Figures 3–4", "## Settings, seeds and machine",
                "## Time of every stage")) {
            assertTrue(md.contains(heading), "report.md lacks " + heading);
        }
        for (String figure : List.of("figures/figure5-resnet18.png", "figures/figure5-resnet18-adv.png", "figures/vgg16-unit_", "figures/vgg16-adv-unit_")) {
            assertTrue(md.contains("](" + figure), "report.md shows no " + figure);
        }
        for (String model : List.of("AlexNet", "AlexNet-Adv", "VGG-16", "VGG-16-Adv", "ResNet-18", "ResNet-18-Adv")) {
            assertTrue(md.contains("| " + model + " |"), "report.md has no row for " + model);
        }
        assertTrue(md.contains("paper consis"), "the paper's columns stand beside this run's");
        assertFalse(md.contains("| ResNet-18 | layer4 | — |"), "ResNet-18's consistency is defined on the quick preset");
        String html = Files.readString(out.resolve(StudyReport.HTML));
        assertEquals(md.split("!\\[", -1).length - 1, html.split("src=\"data:image/png;base64,", -1).length - 1,
                "report.html carries every figure of report.md inside itself");
        for (String table : List.of("training.csv", "table1.csv", "table2.csv", "table3.csv", "study.json")) {
            assertTrue(Files.size(out.resolve(StudyReport.TABLES).resolve(table)) > 0, table);
        }
        List<String> csv = Files.readAllLines(out.resolve(StudyReport.TABLES).resolve("table3.csv"));
        assertEquals(7, csv.size(), "a header and six models: " + csv);

        // An interruption during Figures 3-4 of VGG-16-Adv: its stage and the report are not recorded, its folder half written.
        Path stages = out.resolve(ReproduceRun.STAGES);
        Map<String, Object> all = Json.readObject(stages);
        List<Object> rows = new ArrayList<>((List<?>) all.get("stages"));
        assertEquals(22, rows.size());
        rows.removeIf(o -> List.of("maps/vgg16-adv", "report").contains(((Map<?, ?>) o).get("id")));
        Files.writeString(stages, Json.pretty(Map.of("stages", rows)));
        Path maps = out.resolve(ReproduceRun.EVALUATION).resolve("vgg16-adv").resolve("maps");
        Files.delete(maps.resolve(MapsRun.JSON));
        Path model = out.resolve(ReproduceRun.MODELS).resolve("resnet18").resolve(TrainRun.MODEL);
        FileTime trained = Files.getLastModifiedTime(model);

        String second = run(quick, out, false);
        assertEquals(20, second.lines().filter(l -> l.contains(": done before (")).count(), second);
        assertTrue(second.contains("[21/22] Figures 3–4: VGG-16-Adv: done in"), second);
        assertTrue(second.contains("[22/22] write the report: done in"), second);
        assertTrue(Files.exists(maps.resolve(MapsRun.JSON)), "the unfinished stage ran again");
        assertEquals(trained, Files.getLastModifiedTime(model), "a finished model is not trained again");
        assertTrue(Files.readString(out.resolve(ReproduceRun.LOG)).contains("continuing"), "the log tells the continued run from the first");

        // The same folder for a study of other settings: refused, and nothing is lost, unless --force.
        Preset other = new Preset("other", quick.scenes(), quick.models(), quick.batch(), quick.advEpochs() + 1, quick.advLr(), quick.evalImages(),
                quick.activation(), quick.dissectImages(), quick.dissectEps(), quick.mapsImages(), quick.mapsIterations(), quick.mapsUnits(), quick.mapsTop());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> run(other, out, false));
        assertTrue(e.getMessage().contains("other settings"), e.getMessage());
        assertEquals(trained, Files.getLastModifiedTime(model));
    }

    @Test
    void anUnknownPresetIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Preset.of("fast"));
        assertTrue(e.getMessage().contains("'fast'") && e.getMessage().contains("quick, default, paper"), e.getMessage());
    }

    /**
     * The full-scale study's plumbing, at the scale of a test: "ImageNet" is the scenes' validation
     * images in ImageNet's folder layout, "Broden" the scenes folder, and the "torchvision weights"
     * thin untrained networks of ImageNet's 1000 classes, saved with their configuration. Without a GPU no -Adv model is
     * trained, and the report says so instead of comparing.
     */
    @Test
    void theFullScaleStudyImportsTheWeightsMeasuresThemAndSaysWhyThereIsNoAdvModel(@TempDir Path dir) throws IOException {
        Path scenes = dir.resolve("scenes");
        new ScenesGenerator(new ScenesOptions(120, 32, 3, 0.2, Difficulty.EASY)).generate(scenes, false, done -> {
        });
        Dataset val = BrodenDataset.open(scenes).classification("val");
        for (int i = 0; i < val.size(); i++) {
            Sample s = val.get(i, null);
            Path f = dir.resolve("imagenet").resolve("val").resolve(val.classes().get(s.label())).resolve(i + ".png");
            Files.createDirectories(f.getParent());
            ImageIO.write(ImageCodec.fromChw(s.image(), 0, 3, 32, 32), "png", f.toFile());
        }
        Path weights = Files.createDirectories(dir.resolve("weights"));
        for (Architecture a : List.of(Architecture.ALEXNET, Architecture.VGG16, Architecture.RESNET18, Architecture.VGG16_BN)) {
            try (ImageModel m = Models.create(ModelConfig.small(a, 3, 32, 1000, 5).withWidth(0.125f))) {
                ModelFiles.save(weights.resolve(a.id() + "-test.safetensors"), m);
            }
        }
        var external = new ReproduceRun.External(dir.resolve("imagenet"), scenes, weights, false);
        assertEquals(weights.resolve("vgg16-test.safetensors"), external.weightsOf(Architecture.VGG16), "vgg16 never takes vgg16_bn's file");

        Path out = dir.resolve("study");
        String log;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream console = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            ReproduceRun.run(Preset.of("quick"), external, out, false, "cpu (test)", console);
            log = bytes.toString(StandardCharsets.UTF_8);
        }
        assertTrue(log.contains("[1/11] import AlexNet's torchvision weights"), log);
        assertTrue(log.contains("[10/11] Figures 3–4: VGG-16: done"), log);
        String md = Files.readString(out.resolve(StudyReport.MARKDOWN));
        assertTrue(md.contains("ImageNet's validation images"), md);
        assertTrue(md.contains("torchvision's ImageNet weights, imported"), md);
        assertFalse(md.contains("-Adv |"), "no -Adv rows without a GPU");
        assertTrue(md.contains("This run has no consistent-loss models"), md);
        assertTrue(md.contains("](figures/figure5-resnet18.png)"), md);

        Files.delete(weights.resolve("resnet18-test.safetensors"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> external.weightsOf(Architecture.RESNET18));
        assertTrue(e.getMessage().contains("resnet18-f37072fd.pth"), e.getMessage());
    }
}
