package dev.advinterp.experiments.data;

import dev.advinterp.nn.train.Batch;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchLoaderTest {

    /**
     * Images whose pixels encode their index; the training path adds noise from the generator it is
     * given, so a wrong or shared generator shows in the bits. Some reads sleep, so that workers
     * finish out of order.
     */
    static class Numbered implements Dataset {
        final int n, c, h, w;
        final IntPredicate fails;
        final long sleepMillis;

        Numbered(int n, int c, int h, int w, IntPredicate fails, long sleepMillis) {
            this.n = n;
            this.c = c;
            this.h = h;
            this.w = w;
            this.fails = fails;
            this.sleepMillis = sleepMillis;
        }

        Numbered(int n) {
            this(n, 2, 5, 6, i -> false, 0);
        }

        @Override public String name() { return "numbered/test"; }
        @Override public int size() { return n; }
        @Override public List<String> classes() { return List.of("even", "odd"); }
        @Override public int channels() { return c; }
        @Override public int height() { return h; }
        @Override public int width() { return w; }

        @Override
        public Sample get(int index, SplittableRandom random) {
            if (fails.test(index)) throw new IllegalArgumentException("disk on fire at " + index);
            if (sleepMillis > 0 || index % 7 == 3) {
                try {
                    Thread.sleep(sleepMillis > 0 ? sleepMillis : 2);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            float[] img = new float[c * h * w];
            for (int i = 0; i < img.length; i++) {
                img[i] = ((index * 31 + i) % 97) / 97f;
                if (random != null) img[i] = Math.min(1f, img[i] + 0.01f * (float) random.nextDouble());
            }
            return new Sample(img, index, c, h, w);
        }
    }

    static List<Batch> read(BatchLoader loader, int epoch) {
        List<Batch> out = new ArrayList<>();
        for (Iterator<Batch> it = loader.epoch(epoch); it.hasNext(); ) out.add(it.next());
        return out;
    }

    static void assertSameBits(List<Batch> a, List<Batch> b) {
        assertEquals(a.size(), b.size(), "batch count");
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i).labels(), b.get(i).labels(), "labels of batch " + i);
            float[] x = a.get(i).images(), y = b.get(i).images();
            assertEquals(x.length, y.length);
            for (int j = 0; j < x.length; j++) {
                if (Float.floatToRawIntBits(x[j]) != Float.floatToRawIntBits(y[j])) {
                    throw new AssertionError("batch " + i + " value " + j + ": " + x[j] + " vs " + y[j]);
                }
            }
        }
    }

    static int[] labels(List<Batch> batches) {
        return batches.stream().flatMapToInt(b -> Arrays.stream(b.labels())).toArray();
    }

    static BatchLoader trainingLoader(Dataset d, long seed, int workers) {
        Augmentation aug = Augmentation.randomCrop(2).then(Augmentation.horizontalFlip());
        return new BatchLoader(d, 8, true, true, seed, aug, true, workers, 3);
    }

    static Set<Thread> threadsOf(BatchLoader loader) {
        Set<Thread> out = new HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith(loader.threadPrefix()) && t.isAlive()) out.add(t);
        }
        return out;
    }

    static void awaitNoThreads(BatchLoader loader) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!threadsOf(loader).isEmpty() && System.nanoTime() < deadline) Thread.sleep(20);
        assertEquals(Set.of(), threadsOf(loader), "threads still running");
    }

    @Test
    void sameSeedGivesSameBitsAcrossLoadersAndThreadCounts() {
        Numbered d = new Numbered(61);
        try (BatchLoader one = trainingLoader(d, 42, 1); BatchLoader three = trainingLoader(d, 42, 3);
             BatchLoader again = trainingLoader(d, 42, 3)) {
            for (int epoch = 0; epoch < 3; epoch++) {
                List<Batch> a = read(one, epoch), b = read(three, epoch), c = read(again, epoch);
                assertEquals(7, a.size());
                assertSameBits(a, b);
                assertSameBits(b, c);
            }
        }
    }

    @Test
    void differentSeedsAndEpochsGiveDifferentOrders() {
        Numbered d = new Numbered(50);
        try (BatchLoader a = trainingLoader(d, 1, 2); BatchLoader b = trainingLoader(d, 2, 2)) {
            int[] e0 = labels(read(a, 0)), e1 = labels(read(a, 1)), other = labels(read(b, 0));
            assertFalse(Arrays.equals(e0, e1), "epochs 0 and 1 came in the same order");
            assertFalse(Arrays.equals(e0, other), "seeds 1 and 2 gave the same order");
            for (int[] order : List.of(e0, e1, other)) {
                assertEquals(48, order.length);
                assertEquals(48, Arrays.stream(order).distinct().count(), "a sample came twice in one epoch");
            }
        }
    }

    @Test
    void anEpochDoesNotDependOnTheEpochsReadBefore() {
        Numbered d = new Numbered(40);
        try (BatchLoader history = trainingLoader(d, 9, 2); BatchLoader fresh = trainingLoader(d, 9, 3)) {
            for (int e = 0; e < 4; e++) read(history, e);
            read(history, 1);
            List<Batch> afterHistory = read(history, 4);
            // Two epochs read at once, interleaved, must not disturb each other either.
            Iterator<Batch> other = fresh.epoch(7);
            other.next();
            assertSameBits(afterHistory, read(fresh, 4));
        }
    }

    @Test
    void evaluationKeepsTheOrderAndTheLastPartialBatch() {
        Numbered d = new Numbered(10);
        try (BatchLoader eval = new BatchLoader(d, 4, false, false, 0, null, false, 3, 2)) {
            assertEquals(3, eval.batches());
            assertEquals(10, eval.images());
            List<Batch> batches = read(eval, 0);
            assertEquals(List.of(4, 4, 2), batches.stream().map(Batch::n).toList());
            assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, labels(batches));
            Sample s9 = d.get(9, null);
            assertArrayEquals(s9.image(), Arrays.copyOfRange(batches.get(2).images(), s9.image().length, 2 * s9.image().length));
            assertSameBits(batches, read(eval, 5));
        }
        try (BatchLoader dropped = new BatchLoader(d, 4, false, true, 0, null, false, 1, 1)) {
            assertEquals(2, dropped.batches());
            assertEquals(8, dropped.images());
            assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7}, labels(read(dropped, 0)));
        }
        try (BatchLoader exact = new BatchLoader(new Numbered(8), 4, false, false, 0, null, false, 2, 1)) {
            assertEquals(List.of(4, 4), read(exact, 0).stream().map(Batch::n).toList());
        }
    }

    @Test
    void exhaustedIteratorSaysSo() {
        try (BatchLoader eval = new BatchLoader(new Numbered(3), 2, false, false, 0, null, false, 1, 1)) {
            Iterator<Batch> it = eval.epoch(0);
            it.next();
            it.next();
            assertFalse(it.hasNext());
            assertThrows(java.util.NoSuchElementException.class, it::next);
            assertEquals(0, eval.openEpochs());
        }
    }

    @Test
    void badArgumentsAreRejected() {
        Numbered d = new Numbered(5);
        assertThrows(IllegalArgumentException.class, () -> new BatchLoader(d, 0, false, false, 0, null, false, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new BatchLoader(d, 2, false, false, 0, null, false, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new BatchLoader(d, 2, false, false, 0, null, false, 1, 0));
        var e = assertThrows(IllegalArgumentException.class, () -> new BatchLoader(d, 6, false, true, 0, null, false, 1, 1));
        assertTrue(e.getMessage().contains("numbered/test"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new BatchLoader(new Numbered(0), 2, false, false, 0, null, false, 1, 1));
        try (BatchLoader l = new BatchLoader(d, 2, false, false, 0, null, false, 1, 1)) {
            assertThrows(IllegalArgumentException.class, () -> l.epoch(-1));
        }
    }

    /** A 1×2×3 image with distinct values, and its copy shifted by (dy, dx) with zeros brought in. */
    static final float[] TINY = {1, 2, 3, 4, 5, 6};

    static float[] shifted(int dy, int dx) {
        float[] out = new float[6];
        for (int y = 0; y < 2; y++) {
            for (int x = 0; x < 3; x++) {
                int sy = y + dy, sx = x + dx;
                if (sy >= 0 && sy < 2 && sx >= 0 && sx < 3) out[y * 3 + x] = TINY[sy * 3 + sx];
            }
        }
        return out;
    }

    @Test
    void randomCropShiftsWithinThePaddingAndFillsZeros() {
        // The helper itself, by hand: content moves left when the window moves right.
        assertArrayEquals(new float[] {2, 3, 0, 5, 6, 0}, shifted(0, 1));
        assertArrayEquals(new float[] {0, 0, 0, 0, 1, 2}, shifted(-1, -1));
        assertArrayEquals(TINY, shifted(0, 0));

        Sample tiny = new Sample(TINY.clone(), 3, 1, 2, 3);
        Augmentation crop = Augmentation.randomCrop(1);
        Set<String> seen = new HashSet<>();
        for (int seed = 0; seed < 300; seed++) {
            Sample out = crop.apply(tiny, new SplittableRandom(seed));
            assertEquals(3, out.label());
            assertEquals(List.of(1, 2, 3), List.of(out.c(), out.h(), out.w()));
            String match = null;
            for (int dy = -1; dy <= 1 && match == null; dy++) {
                for (int dx = -1; dx <= 1 && match == null; dx++) {
                    if (Arrays.equals(out.image(), shifted(dy, dx))) match = dy + "," + dx;
                }
            }
            assertTrue(match != null, "seed " + seed + ": " + Arrays.toString(out.image()) + " is no shift of the input by at most 1");
            seen.add(match);
        }
        assertEquals(9, seen.size(), "not every shift within the padding occurred: " + seen);
        assertArrayEquals(TINY, tiny.image(), "the input was modified");
        assertArrayEquals(TINY, Augmentation.randomCrop(0).apply(tiny, new SplittableRandom(1)).image());
        assertThrows(IllegalArgumentException.class, () -> Augmentation.randomCrop(-1));
    }

    @Test
    void horizontalFlipMirrorsEveryChannelAboutHalfTheTime() {
        float[] img = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        float[] mirrored = {3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10};
        Sample s = new Sample(img.clone(), 1, 2, 2, 3);
        int flips = 0;
        for (int seed = 0; seed < 1000; seed++) {
            float[] out = Augmentation.horizontalFlip().apply(s, new SplittableRandom(seed)).image();
            if (Arrays.equals(out, mirrored)) flips++;
            else assertArrayEquals(img, out, "seed " + seed + " neither kept nor mirrored the image");
        }
        assertTrue(flips > 430 && flips < 570, flips + " flips in 1000");
        assertArrayEquals(img, s.image(), "the input was modified");
    }

    @Test
    void aFailingSampleSurfacesNamingTheDatasetAndTheSample() throws Exception {
        Numbered d = new Numbered(40, 1, 4, 4, i -> i == 13, 0);
        BatchLoader loader = new BatchLoader(d, 4, false, false, 0, null, false, 3, 2);
        Iterator<Batch> it = loader.epoch(0);
        for (int b = 0; b < 3; b++) it.next();
        IllegalStateException e = assertThrows(IllegalStateException.class, it::next);
        assertTrue(e.getMessage().contains("numbered/test") && e.getMessage().contains("sample 13")
                && e.getMessage().contains("disk on fire"), e.getMessage());
        assertInstanceOf(IllegalArgumentException.class, e.getCause().getCause());
        assertFalse(it.hasNext(), "the iterator goes on after a failure");
        assertEquals(0, loader.openEpochs());
        loader.close();
        awaitNoThreads(loader);
    }

    @Test
    void aSampleOfTheWrongSizeIsAClearError() {
        Numbered d = new Numbered(4) {
            @Override public int width() { return 7; }
        };
        try (BatchLoader loader = new BatchLoader(d, 2, false, false, 0, null, false, 1, 1)) {
            var e = assertThrows(IllegalStateException.class, () -> loader.epoch(0).next());
            assertTrue(e.getMessage().contains("numbered/test") && e.getMessage().contains("2×5×6"), e.getMessage());
        }
    }

    @Test
    void anAbandonedIteratorStopsItsFeeder() throws Exception {
        Numbered d = new Numbered(400, 1, 4, 4, i -> false, 0);
        BatchLoader loader = new BatchLoader(d, 2, true, true, 5, null, true, 2, 1);
        abandonAfterOneBatch(loader);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (loader.openEpochs() > 0 && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        assertEquals(0, loader.openEpochs(), "the feeder of an unreachable iterator is still running");
        assertTrue(threadsOf(loader).stream().noneMatch(t -> t.getName().contains("feeder")), "a feeder thread is alive");
        // The loader stays usable, and its workers end with close().
        assertEquals(200, read(loader, 1).size());
        loader.close();
        awaitNoThreads(loader);
    }

    private static void abandonAfterOneBatch(BatchLoader loader) {
        Iterator<Batch> it = loader.epoch(0);
        it.next();
        assertEquals(1, loader.openEpochs());
    }

    @Test
    void closeEndsEveryEpochAndThread() throws Exception {
        Numbered d = new Numbered(300, 1, 4, 4, i -> false, 0);
        BatchLoader loader = new BatchLoader(d, 3, false, false, 0, null, false, 3, 2);
        Iterator<Batch> a = loader.epoch(0), b = loader.epoch(1);
        a.next();
        b.next();
        assertFalse(threadsOf(loader).isEmpty());
        loader.close();
        assertEquals(0, loader.openEpochs());
        awaitNoThreads(loader);
        var e = assertThrows(IllegalStateException.class, a::next);
        assertTrue(e.getMessage().contains("closed") && e.getMessage().contains("numbered/test"), e.getMessage());
        assertThrows(IllegalStateException.class, b::hasNext);
        assertThrows(IllegalStateException.class, () -> loader.epoch(2));
        loader.close(); // twice is harmless
    }

    @Test
    void closeWakesAConsumerWaitingForABatch() throws Exception {
        Numbered slow = new Numbered(20, 1, 2, 2, i -> false, 300);
        BatchLoader loader = new BatchLoader(slow, 10, false, false, 0, null, false, 1, 1);
        Iterator<Batch> it = loader.epoch(0);
        CompletableFuture<Batch> waiting = CompletableFuture.supplyAsync(it::next);
        Thread.sleep(100);
        loader.close();
        var e = assertThrows(ExecutionException.class, () -> waiting.get(20, TimeUnit.SECONDS));
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("closed"), e.getCause().getMessage());
        awaitNoThreads(loader);
    }

    @Test
    void theTrainingPathPassesAGeneratorAndEvaluationNone() {
        Numbered d = new Numbered(6);
        try (BatchLoader train = new BatchLoader(d, 6, false, true, 3, null, true, 2, 1);
             BatchLoader eval = new BatchLoader(d, 6, false, true, 3, null, false, 2, 1)) {
            float[] t = train.epoch(0).next().images(), e = eval.epoch(0).next().images();
            assertNotEquals(Arrays.toString(t), Arrays.toString(e));
            float[] expected = new float[e.length];
            for (int i = 0; i < 6; i++) System.arraycopy(d.get(i, null).image(), 0, expected, i * 60, 60);
            assertArrayEquals(expected, e);
        }
    }

    // ---- failures reach the consumer at once; a stuck read is reported in bounded time ----

    @Test
    void imagesTooLargeForABatchAreRefusedWhenTheLoaderIsMade() {
        // index.csv with ih, iw = 100000 once made the feeder fail with NegativeArraySizeException, and the consumer wait 10 minutes
        var e = assertThrows(IllegalArgumentException.class, () -> new BatchLoader(new Numbered(4, 3, 100_000, 100_000, i -> false, 0),
                2, false, false, 0, null, false, 1, 1));
        assertTrue(e.getMessage().contains("3×100000×100000") && e.getMessage().contains("lower --batch"), e.getMessage());
    }

    @Test
    void anOutOfMemoryErrorInAWorkerReachesTheConsumerAtOnceNamingTheSample() {
        Dataset d = new Numbered(8) {
            @Override
            public Sample get(int index, SplittableRandom random) {
                if (index == 5) throw new OutOfMemoryError("Java heap space");
                return super.get(index, random);
            }
        };
        long t0 = System.nanoTime();
        try (BatchLoader l = new BatchLoader(d, 4, false, false, 0, null, false, 2, 2)) {
            Iterator<Batch> it = l.epoch(0);
            it.next();
            var e = assertThrows(IllegalStateException.class, it::next);
            assertTrue(e.getMessage().contains("sample 5") && e.getMessage().contains("out of memory"), e.getMessage());
        }
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(20), "reported at once, not after a timeout");
    }

    @Test
    void aReadThatBlocksIsReportedWithinTheLimitNamingWhatWasBeingRead() {
        java.util.concurrent.CountDownLatch never = new java.util.concurrent.CountDownLatch(1);
        Dataset d = new Numbered(6) {
            @Override
            public Sample get(int index, SplittableRandom random) {
                if (index == 2) {
                    try {
                        never.await(); // a read from a pipe nobody writes to
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return super.get(index, random);
            }

            @Override
            public String describe(int index) {
                return "/data/fifo-" + index;
            }
        };
        long t0 = System.nanoTime();
        try (BatchLoader l = new BatchLoader(d, 3, false, false, 0, null, false, 2, 2).stuckAfter(TimeUnit.MILLISECONDS.toNanos(800))) {
            var e = assertThrows(IllegalStateException.class, () -> read(l, 0));
            assertTrue(e.getMessage().contains("stuck") && e.getMessage().contains("/data/fifo-2"), e.getMessage());
        } finally {
            never.countDown();
        }
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(30), "bounded");
    }
}
