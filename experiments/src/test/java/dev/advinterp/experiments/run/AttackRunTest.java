package dev.advinterp.experiments.run;

import dev.advinterp.experiments.attacks.AttackSpec;
import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.experiments.testing.NoiseImages;
import dev.advinterp.experiments.testing.TinyNet;
import dev.advinterp.nn.io.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class AttackRunTest {

    /** TinyNet that answers class 0 for everything: zero weights, a large bias for class 0. */
    static TinyNet constant() {
        TinyNet m = new TinyNet(1);
        LinkedHashMap<String, HostTensor> sd = m.stateDict();
        sd.replaceAll((k, v) -> HostTensor.ofFloats(new float[(int) v.numel()], v.shape()));
        float[] bias = new float[4];
        bias[0] = 10;
        sd.put("fc.bias", HostTensor.ofFloats(bias, 4));
        m.loadStateDict(sd, true);
        return m;
    }

    static RunFolder folder(Path dir, AttackSpec spec, boolean resume) throws IOException {
        return RunFolder.open(dir, "attack", new LinkedHashMap<>(spec.settings()), AttackRun.OUTPUTS, resume, false);
    }

    @Test
    void theSuccessRateIsOverTheImagesClassifiedCorrectlyWhenClean(@TempDir Path dir) throws IOException {
        Dataset data = NoiseImages.standard(); // labels i mod 4, 40 images
        try (TinyNet m = constant()) {
            for (float eps : new float[]{0, 1}) {
                AttackSpec spec = AttackSpec.fgsm(eps);
                try (RunFolder f = folder(dir.resolve("eps" + eps), spec, false)) {
                    AttackRun.Summary s = AttackRun.run(m, data, spec, new AttackRun.Options(8, false), f, null, null);
                    assertEquals(40, s.images());
                    assertEquals(10, s.cleanCorrect(), "class 0 is right for a quarter of the images");
                    assertEquals(30, s.cleanErrors());
                    assertEquals(0, s.succeeded(), "a model that ignores its input cannot be fooled");
                    assertEquals(0.0, s.successRate());
                    assertEquals(30, s.rawSucceeded(), "the old count took every clean error for a success");
                }
            }
        }
    }

    @Test
    void aResumedAttackContinuesAfterItsLastCompleteRowAndRefusesOtherSettingsOrBadRows(@TempDir Path dir) throws IOException {
        Dataset data = NoiseImages.standard();
        AttackSpec spec = AttackSpec.fgsm(4);
        Path whole = dir.resolve("whole"), cut = dir.resolve("cut");
        try (TinyNet m = new TinyNet(2)) {
            try (RunFolder f = folder(whole, spec, false)) {
                AttackRun.run(m, data, spec, new AttackRun.Options(8, true), f, null, null);
            }
            try (RunFolder f = folder(cut, spec, false)) {
                AttackRun.run(m, data, spec, new AttackRun.Options(8, true), f, null, null);
            }
            Path csv = cut.resolve(AttackRun.RESULTS);
            List<String> lines = Files.readAllLines(csv);
            Files.writeString(csv, String.join("\n", lines.subList(0, 14)) + "\n13,1,,1,1,fal");
            Files.delete(cut.resolve(AttackRun.SUMMARY));
            try (RunFolder f = folder(cut, spec, true)) {
                assertTrue(f.resumed());
                AttackRun.run(m, data, spec, new AttackRun.Options(8, true), f, null, null);
            }
            assertEquals(Files.readString(whole.resolve(AttackRun.RESULTS)), Files.readString(csv));
            assertArrayEquals(Files.readAllBytes(whole.resolve("adv_000017.png")), Files.readAllBytes(cut.resolve("adv_000017.png")));

            var e = assertThrows(IllegalArgumentException.class, () -> folder(cut, AttackSpec.fgsm(8), true));
            assertTrue(e.getMessage().contains("eps: 4 then, 8 now"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> folder(cut, spec, false));
            assertTrue(e.getMessage().contains("--resume continues it"), e.getMessage());

            Files.writeString(csv, String.join("\n", lines.subList(0, 4)) + "\n3,1,,1,1,maybe,0,0,0\n");
            try (RunFolder f = folder(cut, spec, true)) {
                e = assertThrows(IllegalArgumentException.class, () -> AttackRun.run(m, data, spec, new AttackRun.Options(8, true), f, null, null));
                assertTrue(e.getMessage().contains("results.csv line 5: success 'maybe'"), e.getMessage());
            }
            try (RunFolder f = folder(cut, spec, true)) {
                var busy = assertThrows(IllegalStateException.class, () -> folder(cut, spec, true));
                assertTrue(busy.getMessage().contains("in use by another run"), busy.getMessage());
            }
        }
    }

    @Test
    void forceStartsOverDeletingOnlyTheRunsOwnOutputs(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("out");
        Files.createDirectories(out);
        Files.writeString(out.resolve("notes.txt"), "mine");
        Files.writeString(out.resolve(AttackRun.RESULTS), "old");
        var e = assertThrows(IllegalArgumentException.class, () -> folder(out, AttackSpec.fgsm(1), false));
        assertTrue(e.getMessage().contains("no settings.json"), e.getMessage());
        try (RunFolder f = RunFolder.open(out, "attack", Map.of("attack", "fgsm"), AttackRun.OUTPUTS, false, true)) {
            assertFalse(Files.exists(out.resolve(AttackRun.RESULTS)));
            assertEquals("mine", Files.readString(out.resolve("notes.txt")));
        }
    }
}
