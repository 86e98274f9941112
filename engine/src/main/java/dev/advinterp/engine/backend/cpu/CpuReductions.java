package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.ReductionKernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Sums and selections. Every reduction is deterministic whatever the
 * thread count: the input is cut into fixed blocks of {@link CpuElementwise#GRAIN} elements, each
 * block is summed in float64 ({@link CpuVectors}), and the block sums are added in block order.
 */
final class CpuReductions implements ReductionKernels {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    /** Java on bounds-checked segments. */
    @Override
    public boolean boundsChecked() {
        return true;
    }

    @Override
    public double sum(Tensor x) {
        return sum(x.segment(), x.numel());
    }

    @Override
    public void argmax(Tensor x, int rows, int cols, int[] out) {
        argmax(x.segment(), rows, cols, out);
    }

    @Override
    public void topk(Tensor x, int rows, int cols, int k, int[] indices, float[] values) {
        topk(x.segment(), rows, cols, k, indices, values);
    }

    /** Each row's squares summed in float64 ({@link CpuVectors#sumOfSquares}), one row per task. Reads x once. */
    @Override
    public void rowNorms(Tensor x, int rows, int cols, Tensor out) {
        MemorySegment xs = x.segment(), o = out.segment();
        Parallel.forRange(rows, Math.max(1, CpuElementwise.GRAIN / Math.max(1, cols)), (s, e) -> {
            for (int r = s; r < e; r++) {
                long b = (long) r * cols;
                o.setAtIndex(F, r, (float) Math.sqrt(CpuVectors.sumOfSquares(xs, b, b + cols)));
            }
        });
    }

    /** dx = dy[r]·x / norms[r] in float, 0 for a row of norm 0. Reads x, writes dx: 8 bytes per element. */
    @Override
    public void rowNormsBackward(Tensor x, Tensor norms, Tensor dy, int rows, int cols, Tensor dx) {
        MemorySegment xs = x.segment(), ns = norms.segment(), g = dy.segment(), d = dx.segment();
        CpuElementwise.forBlocks(x.numel(), (s, e) -> {
            for (long i = s; i < e; i++) {
                long r = i / cols;
                float norm = ns.getAtIndex(F, r);
                d.setAtIndex(F, i, norm > 0f ? g.getAtIndex(F, r) * xs.getAtIndex(F, i) / norm : 0f);
            }
        });
    }

    // ------------------------------------------------------------------ on segments

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
        return blockedSum(n, (s, e) -> CpuVectors.sum(x, s, e));
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
}
