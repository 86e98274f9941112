package dev.advinterp.experiments.cli;

import dev.advinterp.experiments.activations.Recording;
import dev.advinterp.experiments.io.Csv;
import dev.advinterp.experiments.run.ConsistencyRun;
import dev.advinterp.experiments.run.EvaluateRun;
import dev.advinterp.nn.io.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

import static org.junit.jupiter.api.Assertions.*;

/** wordnet, evaluate, consistency and convert --arch end to end, on a thin ResNet-18 trained for one epoch on generated scenes. */
class MeasureCommandsTest {
    @TempDir
    static Path dir;
    static Path scenes, model;

    @BeforeAll
    static void trainOnScenes() {
        scenes = dir.resolve("scenes");
        assertEquals(0, CliRun.of("data", "scenes", "--out", scenes.toString(), "--images", "100", "--size", "32").code());
        Path run = dir.resolve("r18");
        CliRun r = CliRun.of("train", "--arch", "resnet18", "--width", "0.125", "--data", "scenes:" + scenes, "--out", run.toString(),
                "--epochs", "1", "--batch", "16");
        assertEquals(0, r.code(), r.err());
        model = run.resolve("model.safetensors");
    }

    @Test
    void wordnetDistancesAndPairs() throws IOException {
        CliRun r = CliRun.of("wordnet", "distance", "n02123045", "n01440764");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("tabby") && r.out().strip().endsWith("13"), r.out());
        Path pairs = dir.resolve("pairs.tsv");
        Files.writeString(pairs, "n02123045\tn02123159\nn01440764\tn04552348\n");
        r = CliRun.of("wordnet", "pairs", pairs.toString());
        assertEquals("n02123045\tn02123159\t2\nn01440764\tn04552348\t19\n", r.out().replace("\r\n", "\n"));
        Files.writeString(pairs, "n02123045\tn02123159\nn01440764\tn0455234\n");
        r = CliRun.of("wordnet", "pairs", pairs.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("pairs.tsv line 2: 'n0455234' is not a WordNet noun id"), r.err());
        assertEquals(2, CliRun.of("wordnet", "distance", "n02123045", "n99999999").code());
    }

    @Test
    void consistencyWritesTable1Figure5AndTheUnitsAndResumesAnInterruptedPass() throws IOException {
        Path out = dir.resolve("consistency");
        String[] args = {"consistency", "--model", model.toString(), "--data", "scenes:" + scenes, "--out", out.toString(),
                "--activation", "topk:4", "--min-images", "2", "--batch", "8"};
        CliRun r = CliRun.of(args);
        assertEquals(0, r.code(), r.err());
        Csv.Table units = Csv.read(out.resolve(ConsistencyRun.UNITS), "units.csv");
        assertEquals(64, units.rows().size(), "ResNet-18 at width 1/8: 512 / 8 units in layer4");
        Csv.Table table = Csv.read(out.resolve(ConsistencyRun.TABLE), "table1.csv");
        assertEquals("r18", table.rows().getFirst().get("model"));
        assertEquals("layer4", table.rows().getFirst().get("layer"));
        double mean = table.rows().getFirst().decimal("mean_consis");
        assertTrue(mean > 0 && mean <= 1, "consistency is in (0, 1]: " + mean);
        BufferedImage fig = ImageIO.read(out.resolve(ConsistencyRun.FIGURE).toFile());
        assertTrue(fig.getWidth() >= 800, "figure 5 is a readable PNG");
        Map<String, Object> json = Json.readObject(out.resolve(ConsistencyRun.JSON));
        assertTrue(json.containsKey("accuracy") && json.containsKey("consistency"), json.keySet().toString());
        byte[] unitsBefore = Files.readAllBytes(out.resolve(ConsistencyRun.UNITS));

        // interrupted after 9 images: the resumed run ends with the same numbers
        Path rec = out.resolve(ConsistencyRun.RECORD).resolve(Recording.IMAGES);
        List<String> lines = Files.readAllLines(rec);
        Files.writeString(rec, String.join("\n", lines.subList(0, 10)) + "\n");
        assertEquals(2, CliRun.of(args).code(), "a folder holding a run is not silently reused");
        r = CliRun.of(append(args, "--resume"));
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(unitsBefore, Files.readAllBytes(out.resolve(ConsistencyRun.UNITS)));
        r = CliRun.of(append(args, "--resume", "--sigma", "2"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("sigma: 1 then, 2 now"), r.err());
    }

    @Test
    void evaluateWritesTable3AndThePredictions() throws IOException {
        Path out = dir.resolve("evaluate"), preds = dir.resolve("predictions.csv");
        CliRun r = CliRun.of("evaluate", "--model", model.toString(), "--data", "scenes:" + scenes, "--out", out.toString(),
                "--predictions", preds.toString(), "--limit", "12");
        assertEquals(0, r.code(), r.err());
        Csv.Table acc = Csv.read(out.resolve(EvaluateRun.CSV), "accuracy.csv");
        assertEquals("12", acc.rows().getFirst().get("images"));
        double top1 = acc.rows().getFirst().decimal("top1"), top5 = acc.rows().getFirst().decimal("top5");
        assertTrue(top1 <= top5, top1 + " " + top5);
        Csv.Table p = Csv.read(preds, "predictions");
        assertEquals(12, p.rows().size());
        assertEquals(5, p.rows().getFirst().get("clean_top5").split(";").length);
        // without --out: printed only
        r = CliRun.of("evaluate", "--model", model.toString(), "--data", "scenes:" + scenes, "--limit", "4", "--eps", "0");
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void aTorchvisionStateDictConvertsWithItsConfigurationOrLoadsWithArch() throws IOException {
        // torchvision.models.resnet18(num_classes=10).state_dict() as torch.save writes it (tools/fixtures/make_io_fixtures.py)
        Path pth = Path.of("../nn/src/test/resources/io/resnet18_expanded.pth").toAbsolutePath().normalize();
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(pth), "the nn module's fixture is at " + pth);
        Path out = dir.resolve("tv.safetensors");
        CliRun r = CliRun.of("convert", pth.toString(), out.toString(), "--arch", "resnet18", "--input-size", "32");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("resnet18 (torchvision layout) 3×32×32, 10 classes"), r.out());
        try (var m = dev.advinterp.nn.models.ModelFiles.load(out)) {
            assertEquals(dev.advinterp.nn.models.Layout.TORCHVISION, m.config().layout(), "the converted file carries its configuration");
        }
        r = CliRun.of("convert", pth.toString(), dir.resolve("x.safetensors").toString(), "--arch", "alexnet");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("classifier.6.weight"), r.err());

        // A bare state dict of torchvision's layout (that fixture's weights are constants whose logits overflow, so a
        // torchvision-layout model of the engine's own initialisation stands in) is evaluated with --arch.
        var config = dev.advinterp.nn.models.ModelConfig.imagenet(dev.advinterp.nn.models.Architecture.RESNET18, 7).withClasses(10)
                .withInput(32);
        Path bare = dir.resolve("bare.safetensors");
        try (var m = dev.advinterp.nn.models.Models.create(config)) {
            dev.advinterp.nn.io.SafeTensors.write(bare, m.stateDict(), Map.of("format", "pt"));
        }
        r = CliRun.of("evaluate", "--model", bare.toString(), "--arch", "resnet18", "--input-size", "32", "--data", "scenes:" + scenes,
                "--limit", "4");
        assertEquals(0, r.code(), r.err());
        r = CliRun.of("evaluate", "--model", bare.toString(), "--data", "scenes:" + scenes, "--limit", "4");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("give --arch"), r.err());
        r = CliRun.of("evaluate", "--model", pth.toString(), "--data", "scenes:" + scenes, "--limit", "4");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("is a PyTorch state dict") && r.err().contains("give --arch"), r.err());
    }

    private static String[] append(String[] a, String... more) {
        String[] out = java.util.Arrays.copyOf(a, a.length + more.length);
        System.arraycopy(more, 0, out, a.length, more.length);
        return out;
    }
}
