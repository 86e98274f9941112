package dev.advinterp.experiments.run;

import dev.advinterp.experiments.data.broden.BrodenDataset;
import dev.advinterp.experiments.data.broden.BrodenImages;
import dev.advinterp.experiments.data.scenes.ScenesGenerator;
import dev.advinterp.experiments.data.scenes.ScenesOptions;
import dev.advinterp.experiments.io.Csv;
import dev.advinterp.experiments.metrics.dissection.Table2Row;
import dev.advinterp.experiments.metrics.dissection.UnitDissection;
import dev.advinterp.experiments.testing.PlantedNet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Dissection end to end on the generated scenes, with units whose concepts are known because they were planted. */
class DissectionRunTest {
    @TempDir
    static Path dir;
    static BrodenImages images;

    @BeforeAll
    static void scenes() {
        Path scenes = dir.resolve("scenes");
        new ScenesGenerator(new ScenesOptions(300, 64, 5, 0.2)).generate(scenes, false, done -> { });
        images = BrodenDataset.open(scenes).images(null);
    }

    static DissectionRun.Settings settings(String adversarial) {
        var s = DissectionRun.Settings.defaults();
        return new DissectionRun.Settings(null, adversarial, 4f, s.iou(), s.quantile(), 16, 3, s.budgetValues());
    }

    static DissectionRun.Result run(Path out, String adversarial) throws IOException {
        return run(out, adversarial, Integer.MAX_VALUE);
    }

    static DissectionRun.Result run(Path out, String adversarial, int failAfter) throws IOException {
        try (PlantedNet net = new PlantedNet(64).failAfter(failAfter);
             RunFolder f = RunFolder.open(out, "dissect", Map.of("adversarial", adversarial), DissectionRun.OUTPUTS, true, false)) {
            return DissectionRun.run(net, images, settings(adversarial), f, "planted", null);
        }
    }

    @Test
    void aRedUnitAlignsWithRedAndAStripeUnitWithStriped() throws IOException {
        DissectionRun.Result r = run(dir.resolve("planted"), "none");
        UnitDissection red = r.real().units().get(0), stripes = r.real().units().get(1);
        assertEquals("red", r.concepts().names().get(red.label()), "unit 0's best label");
        assertEquals("striped", r.concepts().names().get(stripes.label()), "unit 1's best label");
        assertTrue(red.aligned(0.04) && stripes.aligned(0.04), "IoU " + red.iou() + " and " + stripes.iou());
        Table2Row t = r.real().table();
        assertEquals(2, t.totalAligned());
        assertEquals(50.0, t.percent(t.categories().indexOf("color")), 1e-9);
        assertEquals(50.0, t.percent(t.categories().indexOf("texture")), 1e-9);
        assertEquals(0.0, t.percent(t.categories().indexOf("object")), 1e-9);
        assertEquals(300, r.images());
        assertNull(r.adversarial());

        Csv.Table tally = Csv.read(dir.resolve("planted").resolve(DissectionRun.TALLY_REAL), "tally");
        assertEquals(List.of("unit", "category", "label", "score"), tally.header().subList(0, 4));
        assertEquals("1", tally.rows().getFirst().get("unit"), "NetDissect numbers units from 1, best first: the red unit");
        assertEquals("red", tally.rows().getFirst().get("label"));
        assertEquals("color", tally.rows().getFirst().get("category"));
        String html = Files.readString(dir.resolve("planted").resolve(DissectionRun.HTML));
        assertTrue(html.contains("unit 0: red (color)") && html.contains("html/real_unit0001.png"), "the page lists each unit with its strip");
        assertTrue(Files.size(dir.resolve("planted").resolve(DissectionRun.STRIPS).resolve("real_unit0000.png")) > 1000);
    }

    @Test
    void adversarialImagesAreDissectedWithTheCleanImagesMasksAndARunResumesItsSecondPass() throws IOException {
        Path whole = dir.resolve("whole");
        DissectionRun.Result a = run(whole, "illc");
        assertNotNull(a.adversarial());
        assertEquals(2, a.adversarial().units().size());
        // A run that crashes in its second pass, checkpointed after every batch, then started again.
        Path cut = dir.resolve("cut");
        long every = DissectionRun.checkpointNanos;
        DissectionRun.checkpointNanos = 0;
        try {
            // pass 1: 19 batches of 16, each a forward, the attack's (2 + 5 iterations) and the adversarial forward
            int pass1 = 19 * 8, intoPass2 = 8 * 8;
            var e = assertThrows(IllegalStateException.class, () -> run(cut, "illc", pass1 + intoPass2));
            assertTrue(e.getMessage().contains("planted failure"), e.getMessage());
        } finally {
            DissectionRun.checkpointNanos = every;
        }
        assertTrue(Files.exists(cut.resolve(DissectionRun.STATE)), "pass 2 left a checkpoint");
        try (var in = new java.io.DataInputStream(Files.newInputStream(cut.resolve(DissectionRun.STATE)))) {
            in.readInt();
            long done = in.readLong();
            assertTrue(done > 0 && done < 300, "the checkpoint is of a pass 2 under way: " + done + " images done");
        }
        assertFalse(Files.exists(cut.resolve(DissectionRun.TABLE)));
        DissectionRun.Result b = run(cut, "illc");
        for (int u = 0; u < 2; u++) {
            assertEquals(a.real().units().get(u).iou(), b.real().units().get(u).iou(), 1e-12);
            assertEquals(a.adversarial().units().get(u).iou(), b.adversarial().units().get(u).iou(), 1e-12);
        }
        assertEquals(Files.readString(whole.resolve(DissectionRun.TALLY_ADVERSARIAL)), Files.readString(cut.resolve(DissectionRun.TALLY_ADVERSARIAL)));
        assertEquals(Files.readString(whole.resolve(DissectionRun.TABLE)), Files.readString(cut.resolve(DissectionRun.TABLE)));
    }
}
