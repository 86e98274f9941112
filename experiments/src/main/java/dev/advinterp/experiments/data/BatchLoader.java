package dev.advinterp.experiments.data;

import dev.advinterp.nn.train.Batch;
import dev.advinterp.nn.train.BatchSource;

import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Batches of a {@link Dataset} for training or evaluation, assembled by background threads
 * ahead of use. Shuffling follows from (seed, epoch) and the augmentation of each sample from
 * (seed, epoch, index), so an epoch's batches are the same bits whatever the thread count, the
 * timing, or the epochs read before (a resumed run sees what an uninterrupted one saw).
 *
 * <p>Each batch is split among all the workers, so even a single batch in flight keeps every
 * core decoding; at most {@code prefetch} finished or unfinished batches wait ahead of the
 * consumer. The last incomplete batch is dropped when {@code dropLast} (training), kept
 * otherwise (evaluation).
 *
 * <p>An epoch's iterator that is abandoned half-read (an exception in the training loop) stops
 * its feeder once it is garbage; {@link #close()} stops every epoch at once, ends the worker
 * threads, and makes the iterators throw. Idle workers also end by themselves after a while, so
 * a loader that is never closed does not pin threads.
 */
public final class BatchLoader implements BatchSource, AutoCloseable {
    private static final Cleaner ABANDONED = Cleaner.create();
    private static final AtomicInteger LOADERS = new AtomicInteger();
    /** How long a batch may go without any of its samples finishing before the reads count as stuck. */
    public static final long DEFAULT_STUCK_NANOS = TimeUnit.MINUTES.toNanos(2);
    /** The largest batch the loader assembles, in floats (4 GiB would not fit a Java array; 1 GiB is plenty). */
    static final long MAX_BATCH_FLOATS = 1L << 28;

    private final Dataset data;
    private final int batch;
    private final boolean shuffle, dropLast;
    private final long seed;
    private final Augmentation augmentation;
    private final boolean train;
    private final int prefetch, workerCount;
    private final ThreadPoolExecutor workers;
    private final String threadPrefix;
    private final Set<Feed> open = ConcurrentHashMap.newKeySet();
    /** The sample each worker is reading now, for the message when reads get stuck. */
    private final Map<Thread, Integer> reading = new ConcurrentHashMap<>();
    private final AtomicLong lastProgress = new AtomicLong(System.nanoTime());
    private volatile long stuckNanos = DEFAULT_STUCK_NANOS;
    private volatile boolean closed;

    /**
     * @param train    whether the dataset applies its random training preprocessing (and {@code augmentation} runs)
     * @param workers  decoding threads (≥ 1)
     * @param prefetch batches assembled ahead of the consumer (≥ 1)
     */
    public BatchLoader(Dataset data, int batch, boolean shuffle, boolean dropLast, long seed, Augmentation augmentation,
                       boolean train, int workers, int prefetch) {
        if (batch <= 0) throw new IllegalArgumentException("batch size must be positive, got " + batch);
        if (data.size() == 0) throw new IllegalArgumentException(data.name() + " is empty");
        if (dropLast && data.size() < batch) {
            throw new IllegalArgumentException(data.name() + " has " + data.size() + " samples, fewer than one batch of " + batch);
        }
        if (workers <= 0 || prefetch <= 0) {
            throw new IllegalArgumentException("workers and prefetch must be positive, got " + workers + " and " + prefetch);
        }
        long floats = (long) batch * data.channels() * data.height() * data.width();
        if (data.channels() <= 0 || data.height() <= 0 || data.width() <= 0 || floats > MAX_BATCH_FLOATS) {
            throw new IllegalArgumentException(data.name() + ": a batch of " + batch + " images of " + data.channels() + "×" + data.height() + "×"
                    + data.width() + " is " + floats + " values, over the " + MAX_BATCH_FLOATS + " a batch may hold; lower --batch "
                    + "(or check the image size the dataset declares)");
        }
        this.data = data;
        this.batch = batch;
        this.shuffle = shuffle;
        this.dropLast = dropLast;
        this.seed = seed;
        this.augmentation = augmentation == null ? Augmentation.none() : augmentation;
        this.train = train;
        this.prefetch = prefetch;
        this.workerCount = workers;
        this.threadPrefix = "advinterp-loader-" + LOADERS.incrementAndGet() + "-" + data.name();
        AtomicInteger threads = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(workers, workers, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, threadPrefix + "-worker-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.workers.allowCoreThreadTimeOut(true);
    }

    /** Training: shuffled, augmented, incomplete last batch dropped; a worker per core, 4 batches ahead. */
    public static BatchLoader training(Dataset data, int batch, long seed, Augmentation augmentation) {
        return new BatchLoader(data, batch, true, true, seed, augmentation, true, Runtime.getRuntime().availableProcessors(), 4);
    }

    /** Evaluation: in order, deterministic preprocessing, every sample; a worker per core. */
    public static BatchLoader evaluation(Dataset data, int batch) {
        return new BatchLoader(data, batch, false, false, 0, Augmentation.none(), false, Runtime.getRuntime().availableProcessors(), 4);
    }

    public Dataset dataset() {
        return data;
    }

    /** How long a batch may go without any of its samples finishing before {@code next()} reports the reads as stuck. */
    public BatchLoader stuckAfter(long nanos) {
        if (nanos <= 0) throw new IllegalArgumentException("the stuck-read limit must be positive");
        this.stuckNanos = nanos;
        return this;
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

    /** Epochs whose feeder has not stopped yet (for tests of the shutdown paths). */
    int openEpochs() {
        return open.size();
    }

    /** The prefix of every thread this loader starts. */
    String threadPrefix() {
        return threadPrefix;
    }

    @Override
    public Iterator<Batch> epoch(int epoch) {
        if (epoch < 0) throw new IllegalArgumentException("epoch must be >= 0, got " + epoch);
        if (closed) throw new IllegalStateException("the loader of " + data.name() + " is closed");
        Feed feed = new Feed(epoch);
        open.add(feed);
        if (closed) { // close() may have run between the check and the add
            feed.stop();
            throw new IllegalStateException("the loader of " + data.name() + " is closed");
        }
        EpochIterator it = new EpochIterator(feed);
        // The cleaner holds the feed, never the iterator: a dropped iterator becomes garbage and stops its feeder.
        ABANDONED.register(it, feed::stop);
        feed.feeder.start();
        return it;
    }

    /** The producing side of one epoch: a feeder thread and the queue of batches it fills. */
    private final class Feed {
        final int epoch, count;
        final int[] order;
        final BlockingQueue<Future<Batch>> queue = new ArrayBlockingQueue<>(prefetch);
        final Thread feeder;
        volatile boolean stopped;

        Feed(int epoch) {
            this.epoch = epoch;
            this.order = order(epoch);
            this.count = batches();
            this.feeder = new Thread(this::feed, threadPrefix + "-feeder-epoch-" + epoch);
            feeder.setDaemon(true);
        }

        private void feed() {
            try {
                for (int b = 0; b < count && !stopped; b++) {
                    int start = b * batch, n = Math.min(batch, order.length - start);
                    Future<Batch> f;
                    try {
                        f = submit(b, start, n);
                    } catch (RejectedExecutionException e) {
                        throw e;
                    } catch (Throwable e) {
                        // Any failure here (a batch too large for memory, a bug) reaches the consumer at its next batch, not never.
                        f = CompletableFuture.failedFuture(new IllegalStateException(data.name() + ": batch " + b + " of epoch " + epoch
                                + " could not be assembled: " + describe(e), e));
                    }
                    queue.put(f);
                    if (f.isDone() && f.state() == Future.State.FAILED) break;
                }
            } catch (InterruptedException e) {
                // stop() interrupts a feeder blocked on a full queue; nothing else to do.
            } catch (RejectedExecutionException e) {
                // The workers were shut down by close(); the consumer sees that through `closed`.
            } finally {
                if (stopped) cancelQueued();
            }
        }

        /** The batch {@code b}: its samples split into contiguous slices, one task per worker. */
        private Future<Batch> submit(int b, int start, int n) {
            int c = data.channels(), h = data.height(), w = data.width();
            float[] images = new float[n * c * h * w];
            int[] labels = new int[n];
            String[] unreadable = new String[n];
            int slices = Math.min(n, workerCount);
            List<CompletableFuture<Void>> parts = new ArrayList<>(slices);
            for (int s = 0; s < slices; s++) {
                int from = start + (int) ((long) n * s / slices), to = start + (int) ((long) n * (s + 1) / slices);
                parts.add(CompletableFuture.runAsync(() -> load(this, from, to, start, images, labels, unreadable), workers));
            }
            return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new))
                    .thenApply(v -> new Batch(images, labels, n, c, h, w, java.util.Arrays.stream(unreadable).allMatch(u -> u == null) ? null : unreadable));
        }

        void stop() {
            stopped = true;
            feeder.interrupt();
            cancelQueued();
            open.remove(this);
        }

        private void cancelQueued() {
            for (Future<Batch> f; (f = queue.poll()) != null; ) f.cancel(false);
        }
    }

    /** Loads samples {@code order[from..to)} of the feed's epoch into their places in the batch that starts at {@code start}. */
    private void load(Feed feed, int from, int to, int start, float[] images, int[] labels, String[] unreadable) {
        int c = data.channels(), h = data.height(), w = data.width(), per = c * h * w;
        for (int p = from; p < to && !feed.stopped; p++) {
            int idx = feed.order[p];
            Sample s;
            reading.put(Thread.currentThread(), idx);
            try {
                SplittableRandom r = train ? new SplittableRandom(mix(mix(seed, feed.epoch), idx)) : null;
                s = data.get(idx, r);
                if (train) s = augmentation.apply(s, r);
            } catch (RuntimeException | OutOfMemoryError e) {
                throw new IllegalStateException(data.name() + ": sample " + idx + " (epoch " + feed.epoch + ") could not be loaded: " + describe(e), e);
            } finally {
                reading.remove(Thread.currentThread());
                lastProgress.set(System.nanoTime());
            }
            if (s.c() != c || s.h() != h || s.w() != w) {
                throw new IllegalStateException(data.name() + ": sample " + idx + " is " + s.c() + "×" + s.h() + "×" + s.w()
                        + ", the dataset declares " + c + "×" + h + "×" + w);
            }
            System.arraycopy(s.image(), 0, images, (p - start) * per, per);
            labels[p - start] = s.label();
            unreadable[p - start] = s.unreadable();
        }
    }

    /** The consuming side of one epoch. It holds its feed; nothing holds it but the consumer. */
    private final class EpochIterator implements Iterator<Batch> {
        private final Feed feed;
        private int next;
        private boolean failed;
        private long waitStart;

        EpochIterator(Feed feed) {
            this.feed = feed;
        }

        /** False after the last batch or after a failure; a closed loader throws rather than end the epoch early unnoticed. */
        @Override
        public boolean hasNext() {
            if (failed || next >= feed.count) return false;
            if (closed) throw closedWhileReading();
            return true;
        }

        @Override
        public Batch next() {
            if (!hasNext()) throw new NoSuchElementException(data.name() + ": epoch " + feed.epoch + " has no batch " + next
                    + (failed ? " (an earlier batch failed)" : " (it has " + feed.count + ")"));
            int b = next++;
            waitStart = System.nanoTime();
            try {
                Batch out = await(take(b), b);
                // Workers skip the rest of a batch once the feed stops: only a batch of an open loader is whole.
                if (closed) throw closedWhileReading();
                if (next == feed.count) feed.stop();
                return out;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failed = true;
                feed.stop();
                throw new IllegalStateException(data.name() + ": interrupted while waiting for batch " + b + " of epoch " + feed.epoch, e);
            } catch (ExecutionException e) {
                failed = true;
                feed.stop();
                Throwable cause = e.getCause() instanceof CompletionException ce && ce.getCause() != null ? ce.getCause() : e.getCause();
                String message = cause instanceof IllegalStateException && cause.getMessage() != null && cause.getMessage().startsWith(data.name())
                        ? cause.getMessage()
                        : data.name() + ": loading batch " + b + " of epoch " + feed.epoch + " failed: " + cause;
                throw new IllegalStateException(message, cause);
            }
        }

        /** Waits for the next batch's future, in short steps so that close() from another thread is noticed. */
        private Future<Batch> take(int b) throws InterruptedException {
            while (true) {
                Future<Batch> f = feed.queue.poll(100, TimeUnit.MILLISECONDS);
                if (f != null) return f;
                if (closed || feed.stopped) throw closedWhileReading();
                checkStuck(b);
            }
        }

        /** The batch, once assembled; the wait is bounded: a read that makes no progress for the limit is reported. */
        private Batch await(Future<Batch> f, int b) throws InterruptedException, ExecutionException {
            while (true) {
                try {
                    return f.get(100, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    if (closed || feed.stopped) throw closedWhileReading();
                    checkStuck(b);
                }
            }
        }

        /** Reports stuck reads: no sample finished since the consumer started waiting, or since the last one did, for the limit. */
        private void checkStuck(int b) {
            long idle = System.nanoTime() - Math.max(lastProgress.get(), waitStart);
            if (idle < stuckNanos) return;
            failed = true;
            feed.stop();
            StringBuilder what = new StringBuilder();
            for (int idx : reading.values()) what.append(what.isEmpty() ? "" : "; ").append("sample ").append(idx).append(" (").append(data.describe(idx)).append(')');
            throw new IllegalStateException(data.name() + ": batch " + b + " of epoch " + feed.epoch + ": no sample finished loading in "
                    + TimeUnit.NANOSECONDS.toSeconds(idle) + " s; the reads are stuck" + (what.isEmpty() ? "" : " reading " + what)
                    + " (a file that blocks, or a hung network file system)");
        }

        private IllegalStateException closedWhileReading() {
            return new IllegalStateException("the loader of " + data.name() + " was closed while epoch " + feed.epoch + " was read");
        }
    }

    private static String describe(Throwable e) {
        if (e instanceof OutOfMemoryError) {
            return "out of memory (" + e.getMessage() + "): lower --batch, or give the JVM more heap (ADVINTERP_JAVA_OPTS=-Xmx…)";
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    static long mix(long a, long b) {
        long z = a * 0x9E3779B97F4A7C15L + b + 0x632BE59BD9B4E019L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Stops every epoch being read, ends the worker and feeder threads, and waits briefly for them. */
    @Override
    public void close() {
        closed = true;
        for (Feed f : List.copyOf(open)) f.stop();
        workers.shutdownNow();
        try {
            workers.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
