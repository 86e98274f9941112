package dev.advinterp.engine.backend;

import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Calls and nanoseconds per primitive of one backend, for finding where a model's step spends
 * its time ({@link Backend#startProfiling()}; {@code -Dadvinterp.profile=true} starts it on the
 * default backend). A call is timed from when the work queued before it has finished to when its
 * own has: on a GPU that is a wait per call, so the times are the kernels' execution, not their
 * enqueueing, and the run is slower than an unprofiled one.
 */
public final class Profiler {
    private final Map<String, LongAdder[]> stats = new ConcurrentHashMap<>();

    void add(String op, long nanos) {
        LongAdder[] s = stats.computeIfAbsent(op, k -> new LongAdder[]{new LongAdder(), new LongAdder()});
        s[0].increment();
        s[1].add(nanos);
    }

    /** Calls of {@code op} so far. */
    public long calls(String op) {
        LongAdder[] s = stats.get(op);
        return s == null ? 0 : s[0].sum();
    }

    /** Nanoseconds spent in {@code op} so far. */
    public long nanos(String op) {
        LongAdder[] s = stats.get(op);
        return s == null ? 0 : s[1].sum();
    }

    /** Primitives by total time, with calls and milliseconds. */
    public String report() {
        TreeMap<Long, String> rows = new TreeMap<>(Comparator.reverseOrder());
        long total = 0;
        for (var e : stats.entrySet()) total += e.getValue()[1].sum();
        for (var e : stats.entrySet()) {
            long ns = e.getValue()[1].sum();
            rows.put(ns * 1000 + rows.size(), String.format("%-28s %8d calls %10.1f ms %5.1f%%", e.getKey(), e.getValue()[0].sum(), ns / 1e6,
                    100.0 * ns / Math.max(1, total)));
        }
        return String.join("\n", rows.values());
    }

    public void reset() {
        stats.clear();
    }
}
