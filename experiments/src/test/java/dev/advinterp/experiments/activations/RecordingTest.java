package dev.advinterp.experiments.activations;

import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.experiments.attacks.AttackSpec;
import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.experiments.data.Sample;
import dev.advinterp.experiments.metrics.consistency.ActivationRule;
import dev.advinterp.experiments.metrics.consistency.ConsistencyMetric;
import dev.advinterp.experiments.metrics.consistency.UnitConsistency;
import dev.advinterp.experiments.testing.NoiseImages;
import dev.advinterp.experiments.testing.TinyNet;
import dev.advinterp.nn.Activations;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The recorded pass: streamed batch by batch it gives what one in-memory pass gives, and it continues after a kill. */
class RecordingTest {
    static final int N = 40, SIZE = 28;

    static Dataset noise() {
        return NoiseImages.standard();
    }

    static final double[] A = {1, 0.3, 0.1, 0, 0.3, 1, 0.1, 0, 0.1, 0.1, 1, 0.2, 0, 0, 0.2, 1};

    @Test
    void theStreamedRecordingGivesTheNumbersOfOneInMemoryPass(@TempDir Path dir) throws IOException {
        Dataset data = noise();
        try (TinyNet model = new TinyNet(3)) {
            try (Recording rec = Recording.open(dir, "relu")) {
                ActivationRecorder.record(model, data, AttackSpec.fgsm(8), "relu", 7, rec, null);
            }
            Recording.Loaded streamed = Recording.load(dir);
            assertEquals(N, streamed.size());
            assertEquals(6, streamed.units());

            // The same passes over all images at once, the maxima taken on the host.
            float[] all = new float[N * SIZE * SIZE];
            int[] labels = new int[N];
            for (int i = 0; i < N; i++) {
                Sample s = data.get(i, null);
                System.arraycopy(s.image(), 0, all, i * SIZE * SIZE, SIZE * SIZE);
                labels[i] = s.label();
            }
            float[] real, adv;
            model.eval();
            try (Scope s = Scope.open()) {
                Tensor x = Tensor.of(all, N, 1, SIZE, SIZE);
                real = maxima(model, x);
                adv = maxima(model, AttackSpec.fgsm(8).build().perturb(model, x, labels));
            }
            for (int k = 0; k < real.length; k++) {
                assertEquals(real[k], streamed.real()[k], 1e-5f, "real maximum " + k);
                assertEquals(adv[k], streamed.adversarial()[k], 1e-5f, "adversarial maximum " + k);
            }
            assertArrayEquals(labels, streamed.labels());
            ConsistencyMetric m = new ConsistencyMetric(A, 4, new ActivationRule.TopK(8), 3);
            List<UnitConsistency> a = m.measure(labels, real, adv, 6), b = m.measure(streamed.labels(), streamed.real(), streamed.adversarial(), 6);
            for (int u = 0; u < 6; u++) {
                assertEquals(a.get(u).realCount(), b.get(u).realCount(), "unit " + u);
                assertEquals(a.get(u).adversarialCount(), b.get(u).adversarialCount(), "unit " + u);
                assertEquals(a.get(u).consis(), b.get(u).consis(), 1e-9, "unit " + u);
                assertEquals(a.get(u).consisAdv(), b.get(u).consisAdv(), 1e-9, "unit " + u);
            }
        }
    }

    private static float[] maxima(TinyNet model, Tensor x) {
        try (Activations cap = Activations.capture("relu")) {
            model.call(x);
            float[] maps = cap.get("relu").toArray();
            int units = 6, hw = SIZE * SIZE;
            float[] out = new float[N * units];
            for (int k = 0; k < out.length; k++) {
                float v = Float.NEGATIVE_INFINITY;
                for (int p = 0; p < hw; p++) v = Math.max(v, maps[k * hw + p]);
                out[k] = v;
            }
            return out;
        }
    }

    @Test
    void aRecordingCutShortByAKillContinuesToTheSameFiles(@TempDir Path dir) throws IOException {
        Dataset data = noise();
        Path whole = dir.resolve("whole"), cut = dir.resolve("cut");
        try (TinyNet model = new TinyNet(5)) {
            try (Recording rec = Recording.open(whole, "relu")) {
                ActivationRecorder.record(model, data, AttackSpec.fgsm(2), "relu", 8, rec, null);
            }
            try (Recording rec = Recording.open(cut, "relu")) {
                ActivationRecorder.record(model, data, AttackSpec.fgsm(2), "relu", 8, rec, null);
            }
            // A kill after 17 complete rows, in the middle of the 18th, with more activations written than rows.
            List<String> lines = Files.readAllLines(cut.resolve(Recording.IMAGES));
            Files.writeString(cut.resolve(Recording.IMAGES), String.join("\n", lines.subList(0, 18)) + "\n17,1,3;", StandardCharsets.UTF_8);
            try (var ch = java.nio.channels.FileChannel.open(cut.resolve(Recording.REAL), StandardOpenOption.WRITE)) {
                ch.truncate(20L * 6 * Float.BYTES);
            }
            try (Recording rec = Recording.open(cut, "relu")) {
                assertEquals(17, rec.done(), "the cut row is dropped");
                ActivationRecorder.record(model, data, AttackSpec.fgsm(2), "relu", 8, rec, null);
            }
            for (String f : List.of(Recording.IMAGES, Recording.REAL, Recording.ADVERSARIAL, Recording.LAYER)) {
                assertArrayEquals(Files.readAllBytes(whole.resolve(f)), Files.readAllBytes(cut.resolve(f)), f);
            }
            // a damaged row is named
            Files.writeString(cut.resolve(Recording.IMAGES), String.join("\n", lines.subList(0, 3)) + "\n7,1,3,0.5,3,0.5\n");
            var e = assertThrows(IllegalArgumentException.class, () -> Recording.open(cut, "relu"));
            assertTrue(e.getMessage().contains("images.csv line 4: index 7 out of order"), e.getMessage());
            Files.writeString(cut.resolve(Recording.IMAGES), String.join("\n", lines.subList(0, 3)) + "\n2,1,3;x,0.5,3,0.5\n");
            e = assertThrows(IllegalArgumentException.class, () -> Recording.open(cut, "relu"));
            assertTrue(e.getMessage().contains("images.csv line 4: malformed prediction"), e.getMessage());
        }
    }

    @Test
    void topFivePredictionsWithProbabilities() {
        float[] logits = {0, 2, 1, 2, -1, 0, 0, 0, 0, 9};
        Prediction[] p = Prediction.topK(logits, 2, 3);
        assertArrayEquals(new int[]{1, 3, 2}, p[0].classes(), "ties go to the lower index");
        double z = Math.exp(0) + 2 * Math.exp(2) + Math.exp(1) + Math.exp(-1);
        assertEquals(Math.exp(2) / z, p[0].probabilities()[0], 1e-6);
        assertEquals(4, p[1].top1(), "two rows of five classes");
        assertTrue(p[1].inTop(4, 1));
        assertFalse(p[0].inTop(0, 3));
        Prediction back = Prediction.parse(p[0].classesField(), p[0].probabilitiesField());
        assertArrayEquals(p[0].classes(), back.classes());
        assertEquals(p[0].probabilities()[1], back.probabilities()[1], 1e-6);
    }
}
