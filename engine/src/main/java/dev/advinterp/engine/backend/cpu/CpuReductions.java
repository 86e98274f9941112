package dev.advinterp.engine.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Reductions, selection and the fused losses. Every reduction is deterministic whatever the
 * thread count: the input is cut into fixed blocks of {@link CpuElementwise#GRAIN} elements, each
 * block is summed in float64, and the block sums are added in block order.
 */
final class CpuReductions {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private CpuReductions() {
    }

    interface BlockSum {
        double sum(long start, long end);
    }

    static double blockedSum(long n, BlockSum body) {
        int blocks = Math.toIntExact(Math.max(1, (n + CpuElementwise.GRAIN - 1) / CpuElementwise.GRAIN));
        double[] partial = new double[blocks];
        Parallel.forRange(blocks, 1, (s, e) -> {
            for (int b = s; b < e; b++) {
                partial[b] = body.sum((long) b * CpuElementwise.GRAIN, Math.min(n, (long) (b + 1) * CpuElementwise.GRAIN));
            }
        });
        double total = 0;
        for (double p : partial) total += p;
        return total;
    }

    static double sum(MemorySegment x, long n) {
        return blockedSum(n, (s, e) -> {
            double acc = 0;
            for (long i = s; i < e; i++) acc += x.getAtIndex(F, i);
            return acc;
        });
    }

    static void argmax(MemorySegment x, int rows, int cols, int[] out) {
        for (int r = 0; r < rows; r++) {
            long b = (long) r * cols;
            int best = 0;
            float bv = x.getAtIndex(F, b);
            for (int j = 1; j < cols; j++) {
                float v = x.getAtIndex(F, b + j);
                if (v > bv) {
                    bv = v;
                    best = j;
                }
            }
            out[r] = best;
        }
    }

    /** Partial selection: k passes over the row (k is small: top-5 accuracy, least-likely class). */
    static void topk(MemorySegment x, int rows, int cols, int k, int[] indices, float[] values) {
        boolean[] taken = new boolean[cols];
        for (int r = 0; r < rows; r++) {
            long b = (long) r * cols;
            java.util.Arrays.fill(taken, false);
            for (int t = 0; t < k; t++) {
                int best = -1;
                float bv = 0;
                for (int j = 0; j < cols; j++) {
                    if (taken[j]) continue;
                    float v = x.getAtIndex(F, b + j);
                    if (best < 0 || v > bv) {
                        bv = v;
                        best = j;
                    }
                }
                taken[best] = true;
                indices[r * k + t] = best;
                values[r * k + t] = bv;
            }
        }
    }

    /**
     * Row r: m = max, lse = m + log Σ exp(x − m), loss_r = lse − x[label]; grad = scale·(exp(x − lse) − onehot)/rows.
     * Reads the logits twice and writes the gradient once: 12 bytes per logit.
     */
    static double softmaxCrossEntropy(MemorySegment logits, int rows, int cols, int[] labels, MemorySegment grad,
                                      float gradScale, float[] rowLosses) {
        double[] losses = new double[rows];
        float gs = gradScale / rows;
        Parallel.forRange(rows, Math.max(1, 4096 / cols), (s, e) -> {
            for (int r = s; r < e; r++) {
                long b = (long) r * cols;
                float m = Float.NEGATIVE_INFINITY;
                boolean nan = false;
                for (int j = 0; j < cols; j++) {
                    float v = logits.getAtIndex(F, b + j);
                    nan |= Float.isNaN(v);
                    m = Math.max(m, v);
                }
                double z = 0;
                for (int j = 0; j < cols; j++) z += Math.exp(logits.getAtIndex(F, b + j) - m);
                double lse = m + Math.log(z);
                losses[r] = nan ? Double.NaN : lse - logits.getAtIndex(F, b + labels[r]);
                if (grad != null) {
                    for (int j = 0; j < cols; j++) {
                        double p = Math.exp(logits.getAtIndex(F, b + j) - lse);
                        grad.setAtIndex(F, b + j, (float) ((p - (j == labels[r] ? 1 : 0)) * gs));
                    }
                }
            }
        });
        double total = 0;
        for (int r = 0; r < rows; r++) {
            total += losses[r];
            if (rowLosses != null) rowLosses[r] = (float) losses[r];
        }
        return total / rows;
    }

    /** loss = mean((a − b)²); gradA = 2(a − b)/N; gradB = −gradA. Reads a and b once, writes each gradient once. */
    static double featureMatching(MemorySegment a, MemorySegment b, MemorySegment gradA, MemorySegment gradB, long n) {
        float k = 2f / n;
        double total = blockedSum(n, (s, e) -> {
            double acc = 0;
            for (long i = s; i < e; i++) {
                float d = a.getAtIndex(F, i) - b.getAtIndex(F, i);
                acc += (double) d * d;
                if (gradA != null) gradA.setAtIndex(F, i, k * d);
                if (gradB != null) gradB.setAtIndex(F, i, -k * d);
            }
            return acc;
        });
        return total / n;
    }
}
