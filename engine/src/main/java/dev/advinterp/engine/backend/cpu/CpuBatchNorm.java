package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.ChannelsLast;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.BatchNormKernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Batch normalisation over {@code [n, c, hw]}, one channel per task, statistics in float64 with
 * two passes (mean, then centred variance) so that they do not lose precision on large batches;
 * the sums and the elementwise maps on the Vector API ({@link CpuVectors}).
 * Each channel's sums run over its n planes with one reduction at the end
 * ({@link CpuVectors#sumOfPlanes}). Training forward reads x three times and writes y once;
 * backward reads dy and x twice (the two sums in one pass, then dx) and writes dx once.
 *
 * <p>On channels-last tensors ({@link CpuChannelsLast}) the same computation runs on the
 * [n·h·w][c] matrix, vectorised across channels: each thread sums a range of rows, in float over
 * blocks of {@value #ROW_BLOCK} rows and in float64 across blocks, and the outputs stay channels-last.
 */
final class CpuBatchNorm implements BatchNormKernels {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    /** Java on bounds-checked segments. */
    @Override
    public boolean boundsChecked() {
        return true;
    }

    private static int hw(Tensor x) {
        return Math.toIntExact(x.shape().sizeFrom(2));
    }

    private static MemorySegment seg(Tensor t) {
        return t == null ? null : t.segment();
    }

    @Override
    public void trainForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, float momentum, float eps,
                             Tensor y, Tensor saveMean, Tensor saveInvStd) {
        ChannelsLast l = ChannelsLast.of(x);
        if (l != null) {
            trainForwardNhwc(x.segmentAsStored(), seg(gamma), seg(beta), seg(runningMean), seg(runningVar), momentum, eps, y.segmentAsStored(),
                    seg(saveMean), seg(saveInvStd), rows(x), x.dim(1));
            y.storeAs(l);
            return;
        }
        trainForward(seg(x), seg(gamma), seg(beta), seg(runningMean), seg(runningVar), momentum, eps, seg(y), seg(saveMean),
                seg(saveInvStd), x.dim(0), x.dim(1), hw(x));
    }

    @Override
    public void inferenceForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, float eps, Tensor y) {
        ChannelsLast l = ChannelsLast.of(x);
        if (l != null) {
            inferenceForwardNhwc(x.segmentAsStored(), seg(gamma), seg(beta), seg(runningMean), seg(runningVar), eps, y.segmentAsStored(), rows(x),
                    x.dim(1));
            y.storeAs(l);
            return;
        }
        inferenceForward(seg(x), seg(gamma), seg(beta), seg(runningMean), seg(runningVar), eps, seg(y), x.dim(0), x.dim(1), hw(x));
    }

    @Override
    public void trainBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, float eps, Tensor dx,
                              Tensor dgamma, Tensor dbeta) {
        ChannelsLast l = nhwc(x, dy);
        if (l != null) {
            trainBackwardNhwc(x.segmentAsStored(), dy.segmentAsStored(), seg(gamma), seg(saveMean), seg(saveInvStd), dx.segmentAsStored(),
                    seg(dgamma), seg(dbeta), rows(x), x.dim(1));
            dx.storeAs(l);
            return;
        }
        trainBackward(seg(x), seg(dy), seg(gamma), seg(saveMean), seg(saveInvStd), seg(dx), seg(dgamma), seg(dbeta), x.dim(0),
                x.dim(1), hw(x));
    }

    @Override
    public void inferenceBackward(Tensor x, Tensor dy, Tensor gamma, Tensor runningMean, Tensor runningVar, float eps, Tensor dx,
                                  Tensor dgamma, Tensor dbeta) {
        ChannelsLast l = nhwc(x, dy);
        if (l != null) {
            inferenceBackwardNhwc(x.segmentAsStored(), dy.segmentAsStored(), seg(gamma), seg(runningMean), seg(runningVar), eps,
                    dx.segmentAsStored(), seg(dgamma), seg(dbeta), rows(x), x.dim(1));
            dx.storeAs(l);
            return;
        }
        inferenceBackward(seg(x), seg(dy), seg(gamma), seg(runningMean), seg(runningVar), eps, seg(dx), seg(dgamma), seg(dbeta),
                x.dim(0), x.dim(1), hw(x));
    }

    /**
     * The channels-last layout the backward runs in, or null for row-major: when x or dy is
     * channels-last, the other is brought into its layout ({@link CpuChannelsLast#common}).
     */
    private static ChannelsLast nhwc(Tensor x, Tensor dy) {
        if (ChannelsLast.of(x) == null && ChannelsLast.of(dy) == null) return null;
        ChannelsLast l = CpuChannelsLast.common(x, dy);
        return l != null && l.fits(x.shape()) ? l : null;
    }

    /** The rows of x read channels-last: n·h·w. */
    private static int rows(Tensor x) {
        return Math.toIntExact(x.numel() / x.dim(1));
    }

    // ------------------------------------------------------------------ on segments

    static void trainForward(MemorySegment x, MemorySegment gamma, MemorySegment beta, MemorySegment runMean,
                             MemorySegment runVar, float momentum, float eps, MemorySegment y,
                             MemorySegment saveMean, MemorySegment saveInvStd, int n, int c, int hw) {
        long m = (long) n * hw;
        Parallel.forRange(c, 1, (s, e) -> {
            for (int ch = s; ch < e; ch++) {
                long first = (long) ch * hw, stride = (long) c * hw;
                double mean = CpuVectors.sumOfPlanes(x, first, stride, n, hw) / m;
                double sq = CpuVectors.sumOfSquaredDeviationsOfPlanes(x, first, stride, n, hw, mean);
                double var = sq / m;
                double invStd = 1.0 / Math.sqrt(var + eps);
                float scale = (float) (gamma.getAtIndex(F, ch) * invStd);
                float shift = (float) (beta.getAtIndex(F, ch) - mean * gamma.getAtIndex(F, ch) * invStd);
                for (int i = 0; i < n; i++) {
                    long b = ((long) i * c + ch) * hw;
                    CpuVectors.affine(x, scale, shift, y, b, b + hw);
                }
                saveMean.setAtIndex(F, ch, (float) mean);
                saveInvStd.setAtIndex(F, ch, (float) invStd);
                double unbiased = m > 1 ? sq / (m - 1) : var;
                runMean.setAtIndex(F, ch, (float) ((1 - momentum) * runMean.getAtIndex(F, ch) + momentum * mean));
                runVar.setAtIndex(F, ch, (float) ((1 - momentum) * runVar.getAtIndex(F, ch) + momentum * unbiased));
            }
        });
    }

    static void inferenceForward(MemorySegment x, MemorySegment gamma, MemorySegment beta, MemorySegment runMean,
                                 MemorySegment runVar, float eps, MemorySegment y, int n, int c, int hw) {
        Parallel.forRange(n * c, Math.max(1, CpuElementwise.GRAIN / Math.max(1, hw)), (s, e) -> {
            for (int pl = s; pl < e; pl++) {
                int ch = pl % c;
                double invStd = 1.0 / Math.sqrt(runVar.getAtIndex(F, ch) + (double) eps);
                float scale = (float) (gamma.getAtIndex(F, ch) * invStd);
                float shift = (float) (beta.getAtIndex(F, ch) - runMean.getAtIndex(F, ch) * gamma.getAtIndex(F, ch) * invStd);
                long b = (long) pl * hw;
                CpuVectors.affine(x, scale, shift, y, b, b + hw);
            }
        });
    }

    /**
     * x̂ = (x − μ)·σ⁻¹; dβ = Σ dy; dγ = Σ dy·x̂; dx = γσ⁻¹/M · (M·dy − dβ − x̂·dγ).
     */
    static void trainBackward(MemorySegment x, MemorySegment dy, MemorySegment gamma, MemorySegment saveMean,
                              MemorySegment saveInvStd, MemorySegment dx, MemorySegment dgamma, MemorySegment dbeta,
                              int n, int c, int hw) {
        long m = (long) n * hw;
        Parallel.forRange(c, 1, (s, e) -> {
            double[] sums = new double[2];
            for (int ch = s; ch < e; ch++) {
                double mean = saveMean.getAtIndex(F, ch), invStd = saveInvStd.getAtIndex(F, ch);
                CpuVectors.sumAndProductsWithDeviationsOfPlanes(dy, x, (long) ch * hw, (long) c * hw, n, hw, mean, sums);
                double sdy = sums[0], sdyx = sums[1];
                double dg = sdyx * invStd;
                dgamma.setAtIndex(F, ch, (float) dg);
                dbeta.setAtIndex(F, ch, (float) sdy);
                double k1 = gamma.getAtIndex(F, ch) * invStd / m;
                float a = (float) (k1 * m), bco = (float) (k1 * dg * invStd), cco = (float) (k1 * sdy);
                float meanF = (float) mean;
                for (int i = 0; i < n; i++) {
                    long b = ((long) i * c + ch) * hw;
                    backwardData(x, dy, dx, a, bco, cco, meanF, b, b + hw);
                }
            }
        });
    }

    static void inferenceBackward(MemorySegment x, MemorySegment dy, MemorySegment gamma, MemorySegment runMean,
                                  MemorySegment runVar, float eps, MemorySegment dx, MemorySegment dgamma,
                                  MemorySegment dbeta, int n, int c, int hw) {
        Parallel.forRange(c, 1, (s, e) -> {
            double[] sums = new double[2];
            for (int ch = s; ch < e; ch++) {
                double invStd = 1.0 / Math.sqrt(runVar.getAtIndex(F, ch) + (double) eps);
                double mean = runMean.getAtIndex(F, ch);
                float scale = (float) (gamma.getAtIndex(F, ch) * invStd);
                for (int i = 0; i < n; i++) {
                    long b = ((long) i * c + ch) * hw;
                    CpuElementwise.scale(dy, scale, dx, b, b + hw);
                }
                CpuVectors.sumAndProductsWithDeviationsOfPlanes(dy, x, (long) ch * hw, (long) c * hw, n, hw, mean, sums);
                double sdy = sums[0], sdyx = sums[1];
                if (dgamma != null) dgamma.setAtIndex(F, ch, (float) (sdyx * invStd));
                if (dbeta != null) dbeta.setAtIndex(F, ch, (float) sdy);
            }
        });
    }

    /** dx = a·dy − b·(x − mean) − c over [s, e), in float32 in that order (the scalar code's bits). */
    private static void backwardData(MemorySegment x, MemorySegment dy, MemorySegment dx, float a, float b, float c, float mean,
                                     long s, long e) {
        long i = s;
        for (long bound = s + S.loopBound(e - s); i < bound; i += S.length()) {
            long off = i * Float.BYTES;
            FloatVector d = FloatVector.fromMemorySegment(S, dy, off, NATIVE);
            FloatVector xv = FloatVector.fromMemorySegment(S, x, off, NATIVE);
            d.mul(a).sub(xv.sub(mean).mul(b)).sub(c).intoMemorySegment(dx, off, NATIVE);
        }
        for (; i < e; i++) dx.setAtIndex(F, i, a * dy.getAtIndex(F, i) - b * (x.getAtIndex(F, i) - mean) - c);
    }

    // ------------------------------------------------------------------ channels-last: [rows = n·h·w][c]

    /** Rows summed in float before their sums join the float64 totals. */
    private static final int ROW_BLOCK = 32;

    /** A body that adds the per-channel sums of rows [r0, r1) into {@code out}. */
    @FunctionalInterface
    private interface RowSums {
        void add(int r0, int r1, double[] out);
    }

    /**
     * Per-channel sums of a [rows][c] matrix, {@code width} of them: the rows are split into one
     * range per thread (boundaries from the sizes only), each range sums into its own float64
     * array, and the ranges' arrays are added in order, so the bits do not depend on timing.
     */
    private static double[] sumRows(int rows, int width, RowSums body) {
        int tasks = Math.max(1, Math.min(Parallel.THREADS, rows / ROW_BLOCK));
        double[][] part = new double[tasks][width];
        Parallel.forRange(tasks, 1, (s, e) -> {
            for (int t = s; t < e; t++) body.add((int) ((long) rows * t / tasks), (int) ((long) rows * (t + 1) / tasks), part[t]);
        });
        double[] total = new double[width];
        for (double[] p : part) for (int i = 0; i < width; i++) total[i] += p[i];
        return total;
    }

    /**
     * Adds per-channel sums over rows [r0, r1) into {@code out}: Σ x (mean and dy null); Σ (x − mean)²
     * (dy null); or Σ dy into out[ch] and Σ dy·(x − mean) into out[c + ch].
     */
    private static void addColumnSums(MemorySegment x, MemorySegment dy, float[] mean, int c, int r0, int r1, double[] out) {
        float[] acc = new float[dy == null ? c : 2 * c];
        for (int b = r0; b < r1; b += ROW_BLOCK) {
            java.util.Arrays.fill(acc, 0f);
            for (int r = b, end = Math.min(r1, b + ROW_BLOCK); r < end; r++) {
                long row = (long) r * c;
                int ch = 0;
                if (dy == null && mean == null) {
                    for (int bound = S.loopBound(c); ch < bound; ch += S.length()) {
                        FloatVector.fromArray(S, acc, ch).add(FloatVector.fromMemorySegment(S, x, (row + ch) * 4, NATIVE)).intoArray(acc, ch);
                    }
                    for (; ch < c; ch++) acc[ch] += x.getAtIndex(F, row + ch);
                } else if (dy == null) {
                    for (int bound = S.loopBound(c); ch < bound; ch += S.length()) {
                        FloatVector d = FloatVector.fromMemorySegment(S, x, (row + ch) * 4, NATIVE).sub(FloatVector.fromArray(S, mean, ch));
                        FloatVector.fromArray(S, acc, ch).add(d.mul(d)).intoArray(acc, ch);
                    }
                    for (; ch < c; ch++) {
                        float d = x.getAtIndex(F, row + ch) - mean[ch];
                        acc[ch] += d * d;
                    }
                } else {
                    for (int bound = S.loopBound(c); ch < bound; ch += S.length()) {
                        FloatVector g = FloatVector.fromMemorySegment(S, dy, (row + ch) * 4, NATIVE);
                        FloatVector d = FloatVector.fromMemorySegment(S, x, (row + ch) * 4, NATIVE).sub(FloatVector.fromArray(S, mean, ch));
                        FloatVector.fromArray(S, acc, ch).add(g).intoArray(acc, ch);
                        FloatVector.fromArray(S, acc, c + ch).add(g.mul(d)).intoArray(acc, c + ch);
                    }
                    for (; ch < c; ch++) {
                        float g = dy.getAtIndex(F, row + ch);
                        acc[ch] += g;
                        acc[c + ch] += g * (x.getAtIndex(F, row + ch) - mean[ch]);
                    }
                }
            }
            for (int i = 0; i < acc.length; i++) out[i] += acc[i];
        }
    }

    /** y[r][ch] = x[r][ch]·scale[ch] + shift[ch] over all rows (y may be x). */
    private static void affineRows(MemorySegment x, float[] scale, float[] shift, MemorySegment y, int rows, int c) {
        Parallel.forRange(rows, Math.max(1, CpuElementwise.GRAIN / c), (s, e) -> {
            for (int r = s; r < e; r++) {
                long row = (long) r * c;
                int ch = 0;
                for (int bound = S.loopBound(c); ch < bound; ch += S.length()) {
                    FloatVector.fromMemorySegment(S, x, (row + ch) * 4, NATIVE).mul(FloatVector.fromArray(S, scale, ch))
                            .add(FloatVector.fromArray(S, shift, ch)).intoMemorySegment(y, (row + ch) * 4, NATIVE);
                }
                for (; ch < c; ch++) y.setAtIndex(F, row + ch, x.getAtIndex(F, row + ch) * scale[ch] + shift[ch]);
            }
        });
    }

    static void trainForwardNhwc(MemorySegment x, MemorySegment gamma, MemorySegment beta, MemorySegment runMean, MemorySegment runVar,
                                 float momentum, float eps, MemorySegment y, MemorySegment saveMean, MemorySegment saveInvStd, int rows, int c) {
        double[] sums = sumRows(rows, c, (r0, r1, out) -> addColumnSums(x, null, null, c, r0, r1, out));
        float[] meanF = new float[c];
        double[] mean = new double[c];
        for (int ch = 0; ch < c; ch++) {
            mean[ch] = sums[ch] / rows;
            meanF[ch] = (float) mean[ch];
        }
        double[] sq = sumRows(rows, c, (r0, r1, out) -> addColumnSums(x, null, meanF, c, r0, r1, out));
        float[] scale = new float[c], shift = new float[c];
        for (int ch = 0; ch < c; ch++) {
            double var = sq[ch] / rows, invStd = 1.0 / Math.sqrt(var + eps);
            double g = gamma.getAtIndex(F, ch);
            scale[ch] = (float) (g * invStd);
            shift[ch] = (float) (beta.getAtIndex(F, ch) - mean[ch] * g * invStd);
            saveMean.setAtIndex(F, ch, meanF[ch]);
            saveInvStd.setAtIndex(F, ch, (float) invStd);
            double unbiased = rows > 1 ? sq[ch] / (rows - 1) : var;
            runMean.setAtIndex(F, ch, (float) ((1 - momentum) * runMean.getAtIndex(F, ch) + momentum * mean[ch]));
            runVar.setAtIndex(F, ch, (float) ((1 - momentum) * runVar.getAtIndex(F, ch) + momentum * unbiased));
        }
        affineRows(x, scale, shift, y, rows, c);
    }

    static void inferenceForwardNhwc(MemorySegment x, MemorySegment gamma, MemorySegment beta, MemorySegment runMean, MemorySegment runVar,
                                     float eps, MemorySegment y, int rows, int c) {
        float[] scale = new float[c], shift = new float[c];
        for (int ch = 0; ch < c; ch++) {
            double invStd = 1.0 / Math.sqrt(runVar.getAtIndex(F, ch) + (double) eps);
            scale[ch] = (float) (gamma.getAtIndex(F, ch) * invStd);
            shift[ch] = (float) (beta.getAtIndex(F, ch) - runMean.getAtIndex(F, ch) * gamma.getAtIndex(F, ch) * invStd);
        }
        affineRows(x, scale, shift, y, rows, c);
    }

    static void trainBackwardNhwc(MemorySegment x, MemorySegment dy, MemorySegment gamma, MemorySegment saveMean, MemorySegment saveInvStd,
                                  MemorySegment dx, MemorySegment dgamma, MemorySegment dbeta, int rows, int c) {
        float[] mean = new float[c];
        for (int ch = 0; ch < c; ch++) mean[ch] = saveMean.getAtIndex(F, ch);
        double[] sums = sumRows(rows, 2 * c, (r0, r1, out) -> addColumnSums(x, dy, mean, c, r0, r1, out));
        float[] a = new float[c], b = new float[c], k = new float[c];
        for (int ch = 0; ch < c; ch++) {
            double invStd = saveInvStd.getAtIndex(F, ch), sdy = sums[ch], dg = sums[c + ch] * invStd;
            dgamma.setAtIndex(F, ch, (float) dg);
            dbeta.setAtIndex(F, ch, (float) sdy);
            double k1 = gamma.getAtIndex(F, ch) * invStd / rows;
            a[ch] = (float) (k1 * rows);
            b[ch] = (float) (k1 * dg * invStd);
            k[ch] = (float) (k1 * sdy);
        }
        Parallel.forRange(rows, Math.max(1, CpuElementwise.GRAIN / c), (s, e) -> {
            for (int r = s; r < e; r++) {
                long row = (long) r * c;
                int ch = 0;
                for (int bound = S.loopBound(c); ch < bound; ch += S.length()) {
                    long off = (row + ch) * 4;
                    FloatVector d = FloatVector.fromMemorySegment(S, dy, off, NATIVE);
                    FloatVector xv = FloatVector.fromMemorySegment(S, x, off, NATIVE).sub(FloatVector.fromArray(S, mean, ch));
                    d.mul(FloatVector.fromArray(S, a, ch)).sub(xv.mul(FloatVector.fromArray(S, b, ch))).sub(FloatVector.fromArray(S, k, ch))
                            .intoMemorySegment(dx, off, NATIVE);
                }
                for (; ch < c; ch++) {
                    dx.setAtIndex(F, row + ch, a[ch] * dy.getAtIndex(F, row + ch) - b[ch] * (x.getAtIndex(F, row + ch) - mean[ch]) - k[ch]);
                }
            }
        });
    }

    static void inferenceBackwardNhwc(MemorySegment x, MemorySegment dy, MemorySegment gamma, MemorySegment runMean, MemorySegment runVar,
                                      float eps, MemorySegment dx, MemorySegment dgamma, MemorySegment dbeta, int rows, int c) {
        float[] scale = new float[c], zero = new float[c], mean = new float[c];
        double[] invStd = new double[c];
        for (int ch = 0; ch < c; ch++) {
            invStd[ch] = 1.0 / Math.sqrt(runVar.getAtIndex(F, ch) + (double) eps);
            scale[ch] = (float) (gamma.getAtIndex(F, ch) * invStd[ch]);
            mean[ch] = runMean.getAtIndex(F, ch);
        }
        if (dgamma != null || dbeta != null) {
            double[] sums = sumRows(rows, 2 * c, (r0, r1, out) -> addColumnSums(x, dy, mean, c, r0, r1, out));
            for (int ch = 0; ch < c; ch++) {
                if (dgamma != null) dgamma.setAtIndex(F, ch, (float) (sums[c + ch] * invStd[ch]));
                if (dbeta != null) dbeta.setAtIndex(F, ch, (float) sums[ch]);
            }
        }
        affineRows(dy, scale, zero, dx, rows, c);
    }
}
