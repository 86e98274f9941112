package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.EngineConfig;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ExecutionException;

/**
 * The CPU backend's one fixed thread pool. Work is split into contiguous index ranges whose
 * boundaries depend only on the problem size and the thread count, never on timing, so that a
 * loop whose iterations write disjoint outputs gives the same bits on every run. Reductions do
 * not rely on it: they sum fixed-size blocks in a fixed order (see {@link CpuReductions}).
 *
 * <p>The pool has {@code threads − 1} daemon workers; the calling thread runs the first range.
 * A parallel loop started from inside a worker runs inline, so nesting cannot deadlock.
 * The thread count is the number of available processors, or the system property
 * {@code advinterp.threads} ({@link EngineConfig#threads()}), read once when the pool starts.
 */
public final class Parallel {
    public static final int THREADS = EngineConfig.current().threads();

    private static final ThreadLocal<Boolean> IN_WORKER = ThreadLocal.withInitial(() -> false);
    private static final ExecutorService POOL = THREADS == 1 ? null : Executors.newFixedThreadPool(THREADS - 1, r -> {
        Thread t = new Thread(() -> {
            IN_WORKER.set(true);
            r.run();
        }, "advinterp-cpu");
        t.setDaemon(true);
        return t;
    });

    /** The body of a parallel loop over {@code [start, end)}. */
    @FunctionalInterface
    public interface Range {
        void run(int start, int end);
    }

    private Parallel() {
    }

    /**
     * Runs {@code body} over {@code [0, n)} in at most {@link #THREADS} contiguous ranges of at least
     * {@code grain} iterations each.
     */
    public static void forRange(int n, int grain, Range body) {
        if (n <= 0) return;
        int chunks = (int) Math.min(THREADS, Math.max(1, (n + (long) Math.max(1, grain) - 1) / Math.max(1, grain)));
        chunks = Math.min(chunks, n);
        if (chunks == 1 || POOL == null || IN_WORKER.get()) {
            body.run(0, n);
            return;
        }
        @SuppressWarnings("unchecked")
        Future<?>[] futures = new Future<?>[chunks - 1];
        for (int c = 1; c < chunks; c++) {
            int s = (int) ((long) n * c / chunks), e = (int) ((long) n * (c + 1) / chunks);
            futures[c - 1] = POOL.submit(() -> body.run(s, e));
        }
        Throwable failure = null;
        try {
            body.run(0, (int) ((long) n / chunks));
        } catch (Throwable t) {
            failure = t;
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (failure == null) failure = e.getCause();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (failure == null) failure = e;
            }
        }
        if (failure instanceof RuntimeException re) throw re;
        if (failure instanceof Error er) throw er;
        if (failure != null) throw new IllegalStateException(failure);
    }
}
