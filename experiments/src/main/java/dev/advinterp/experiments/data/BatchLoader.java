package dev.advinterp.experiments.data;

import dev.advinterp.nn.train.Batch;
import dev.advinterp.nn.train.BatchSource;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Batches of a {@link Dataset} for training or evaluation, assembled by background threads
 * ahead of use. Shuffling follows from (seed, epoch) and the augmentation of each sample from
 * (seed, epoch, index), so an epoch's batches are the same bits whatever the thread count, the
 * timing, or the epochs read before (a resumed run sees what an uninterrupted one saw).
 *
 * <p>A batch's samples are decoded in parallel by the workers; at most {@code prefetch} batches
 * wait in memory. The last incomplete batch is dropped when {@code dropLast} (training), kept
 * otherwise (evaluation).
 */
public final class BatchLoader implements BatchSource, AutoCloseable {
    private final Dataset data;
    private final int batch;
    private final boolean shuffle, dropLast;
    private final long seed;
    private final Augmentation augmentation;
    private final boolean train;
    private final int prefetch;
    private final ExecutorService workers;

    /**
     * @param train        whether the dataset applies its random training preprocessing (and {@code augmentation} runs)
     * @param workers      decoding threads (≥ 1)
     */
    public BatchLoader(Dataset data, int batch, boolean shuffle, boolean dropLast, long seed, Augmentation augmentation,
                       boolean train, int workers, int prefetch) {
        if (batch <= 0) throw new IllegalArgumentException("batch size must be positive, got " + batch);
        if (data.size() == 0) throw new IllegalArgumentException(data.name() + " is empty");
        if (dropLast && data.size() < batch) {
            throw new IllegalArgumentException(data.name() + " has " + data.size() + " samples, fewer than one batch of " + batch);
        }
        if (workers <= 0 || prefetch <= 0) throw new IllegalArgumentException("workers and prefetch must be positive");
        this.data = data;
        this.batch = batch;
        this.shuffle = shuffle;
        this.dropLast = dropLast;
        this.seed = seed;
        this.augmentation = augmentation == null ? Augmentation.none() : augmentation;
        this.train = train;
        this.prefetch = prefetch;
        this.workers = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "advinterp-loader");
            t.setDaemon(true);
            return t;
        });
    }

    /** Training: shuffled, augmented, incomplete last batch dropped; 2 workers, 4 batches ahead. */
    public static BatchLoader training(Dataset data, int batch, long seed, Augmentation augmentation) {
        return new BatchLoader(data, batch, true, true, seed, augmentation, true, Math.max(1, Runtime.getRuntime().availableProcessors()), 4);
    }

    /** Evaluation: in order, deterministic preprocessing, every sample. */
    public static BatchLoader evaluation(Dataset data, int batch) {
        return new BatchLoader(data, batch, false, false, 0, Augmentation.none(), false, Math.max(1, Runtime.getRuntime().availableProcessors()), 4);
    }

    public Dataset dataset() {
        return data;
    }

    @Override
    public int batches() {
        return dropLast ? data.size() / batch : (data.size() + batch - 1) / batch;
    }

    @Override
    public long images() {
        return dropLast ? (long) batches() * batch : data.size();
    }

    /** The order of the samples in {@code epoch}: a Fisher–Yates shuffle seeded by (seed, epoch), or 0..n−1. */
    int[] order(int epoch) {
        int[] order = new int[data.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        if (shuffle) {
            SplittableRandom r = new SplittableRandom(mix(seed, epoch));
            for (int i = order.length - 1; i > 0; i--) {
                int j = r.nextInt(i + 1), t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        return order;
    }

    @Override
    public Iterator<Batch> epoch(int epoch) {
        int[] order = order(epoch);
        int count = batches();
        BlockingQueue<Future<Batch>> queue = new ArrayBlockingQueue<>(prefetch);
        // A feeder submits batch jobs in order; the queue bounds how many are in flight.
        Thread feeder = Thread.ofVirtual().unstarted(() -> {
            try {
                for (int b = 0; b < count; b++) {
                    int start = b * batch, n = Math.min(batch, order.length - start);
                    int bi = b;
                    queue.put(workers.submit(() -> assemble(order, start, n, epoch, bi)));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        feeder.start();
        return new Iterator<>() {
            int next = 0;

            @Override
            public boolean hasNext() {
                if (next >= count) return false;
                return true;
            }

            @Override
            public Batch next() {
                if (!hasNext()) throw new NoSuchElementException();
                next++;
                try {
                    Future<Batch> f = queue.poll(10, TimeUnit.MINUTES);
                    if (f == null) throw new IllegalStateException("the data loader produced nothing for 10 minutes (" + data.name() + ")");
                    return f.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    feeder.interrupt();
                    throw new IllegalStateException("interrupted while waiting for a batch", e);
                } catch (java.util.concurrent.ExecutionException e) {
                    feeder.interrupt();
                    Throwable c = e.getCause();
                    if (c instanceof RuntimeException re) throw re;
                    throw new IllegalStateException("loading a batch of " + data.name() + " failed: " + c, c);
                }
            }
        };
    }

    private Batch assemble(int[] order, int start, int n, int epoch, int batchIndex) {
        int c = data.channels(), h = data.height(), w = data.width(), per = c * h * w;
        float[] images = new float[n * per];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            int idx = order[start + i];
            SplittableRandom r = train ? new SplittableRandom(mix(mix(seed, epoch), idx)) : null;
            Sample s = data.get(idx, r);
            if (train) s = augmentation.apply(s, r);
            if (s.c() != c || s.h() != h || s.w() != w) {
                throw new IllegalStateException(data.name() + ": sample " + idx + " is " + s.c() + "×" + s.h() + "×" + s.w()
                        + ", the dataset declares " + c + "×" + h + "×" + w);
            }
            System.arraycopy(s.image(), 0, images, i * per, per);
            labels[i] = s.label();
        }
        return new Batch(images, labels, n, c, h, w);
    }

    static long mix(long a, long b) {
        long z = a * 0x9E3779B97F4A7C15L + b + 0x632BE59BD9B4E019L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public void close() {
        workers.shutdownNow();
    }
}
