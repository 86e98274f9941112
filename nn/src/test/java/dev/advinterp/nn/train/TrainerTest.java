package dev.advinterp.nn.train;

import dev.advinterp.nn.io.HostTensor;
import dev.advinterp.nn.models.Architecture;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.models.ModelConfig;
import dev.advinterp.nn.models.Models;
import dev.advinterp.nn.optim.LrSchedule;
import dev.advinterp.nn.optim.Sgd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class TrainerTest {

    /** Two classes told apart by which half of the image is brighter; batches follow from (seed, epoch). */
    static BatchSource halves(int batches, int batch, int size, long seed) {
        return new BatchSource() {
            public int batches() {
                return batches;
            }

            public long images() {
                return (long) batches * batch;
            }

            public Iterator<Batch> epoch(int epoch) {
                SplittableRandom r = new SplittableRandom(seed * 1000 + epoch);
                List<Batch> out = new ArrayList<>();
                for (int b = 0; b < batches; b++) {
                    float[] x = new float[batch * size * size];
                    int[] y = new int[batch];
                    for (int i = 0; i < batch; i++) {
                        y[i] = r.nextInt(2);
                        for (int p = 0; p < size * size; p++) {
                            boolean top = p / size < size / 2;
                            x[i * size * size + p] = (float) (0.3 * r.nextDouble() + (top == (y[i] == 0) ? 0.5 : 0.0));
                        }
                    }
                    out.add(new Batch(x, y, batch, 1, size, size));
                }
                return out.iterator();
            }
        };
    }

    private static ImageModel model() {
        return Models.create(ModelConfig.small(Architecture.ALEXNET, 1, 28, 2, 11));
    }

    private static Trainer.Options options(int epochs, Path dir, boolean resume) {
        return new Trainer.Options(epochs, new Sgd.Options(0.01f, 0.9f, 5e-4f, true), new LrSchedule.Cosine(3, 0f), 5,
                dir.resolve("run.safetensors"), dir.resolve("metrics.csv"), resume, null);
    }

    @Test
    void resumedRunEqualsUninterruptedRunBitForBit(@TempDir Path a, @TempDir Path b) throws IOException {
        LinkedHashMap<String, HostTensor> straight;
        List<EpochStats> straightHistory;
        try (ImageModel m = model()) {
            straightHistory = new Trainer(options(3, a, false)).fit(m, halves(3, 8, 28, 1), null);
            straight = m.stateDict();
        }
        try (ImageModel m = model()) {
            new Trainer(options(1, b, false)).fit(m, halves(3, 8, 28, 1), null);
        }
        try (ImageModel m = model()) {
            List<EpochStats> h = new Trainer(options(3, b, true)).fit(m, halves(3, 8, 28, 1), null);
            assertEquals(straight, m.stateDict(), "resumed parameters differ");
            assertEquals(3, h.size());
            for (int i = 0; i < 3; i++) {
                assertEquals(straightHistory.get(i).trainLoss(), h.get(i).trainLoss(), "epoch " + (i + 1) + " loss");
            }
        }
        List<String> csv = Files.readAllLines(b.resolve("metrics.csv"));
        assertEquals(4, csv.size(), "header and one line per epoch, including the epochs before the resume");
        assertTrue(csv.get(0).startsWith("epoch,lr,train_loss"));
    }

    @Test
    void lossFallsOnALearnableProblem(@TempDir Path dir) throws IOException {
        try (ImageModel m = model()) {
            // AlexNet without batch norm starts slowly: the bar is a clear fall and a clearly better than chance accuracy.
            var o = new Trainer.Options(6, new Sgd.Options(0.03f, 0.9f, 0f, false), new LrSchedule.Constant(), 3, null, null, false, null);
            List<EpochStats> h = new Trainer(o).fit(m, halves(4, 16, 28, 2), halves(2, 16, 28, 99));
            assertTrue(h.getLast().trainLoss() < 0.7 * h.getFirst().trainLoss(), "losses " + h);
            assertTrue(h.getLast().valAccuracy() >= 0.85, "validation accuracy " + h.getLast().valAccuracy());
        }
    }

    @Test
    void corruptOrForeignCheckpointsAreClearErrors(@TempDir Path dir) throws IOException {
        Path cp = dir.resolve("run.safetensors");
        Files.write(cp, new byte[]{1, 2, 3});
        try (ImageModel m = model()) {
            var e = assertThrows(IOException.class, () -> new Trainer(options(1, dir, true)).fit(m, halves(1, 4, 28, 1), null));
            assertTrue(e.getMessage().contains(cp.toString()), e.getMessage());
        }
        try (ImageModel m = model()) {
            new Trainer(options(1, dir.resolve("ok"), false)).fit(m, halves(1, 4, 28, 1), null);
        }
        try (ImageModel other = Models.create(ModelConfig.small(Architecture.ALEXNET, 1, 28, 3, 11))) {
            Path okDir = dir.resolve("ok");
            var e = assertThrows(IllegalArgumentException.class,
                    () -> new Trainer(options(2, okDir, true)).fit(other, halves(1, 4, 28, 1), null));
            assertTrue(e.getMessage().contains("was written for"), e.getMessage());
        }
    }

    @Test
    void schedulesFollowPyTorch() {
        assertEquals(0.1f, new LrSchedule.Step(30, 0.1f).lr(0.1f, 29), 1e-9);
        assertEquals(0.01f, new LrSchedule.Step(30, 0.1f).lr(0.1f, 30), 1e-9);
        assertEquals(0.05f, new LrSchedule.Cosine(10, 0f).lr(0.1f, 5), 1e-7);
        assertEquals(0.0f, new LrSchedule.Cosine(10, 0f).lr(0.1f, 10), 1e-9);
        assertEquals(new LrSchedule.Step(5, 0.5f), LrSchedule.parse("step:5:0.5", 10));
        assertEquals(new LrSchedule.Cosine(10, 0.001f), LrSchedule.parse("cosine:0.001", 10));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.parse("linear", 10));
    }
}
