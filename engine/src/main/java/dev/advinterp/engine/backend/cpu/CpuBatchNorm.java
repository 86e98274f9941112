package dev.advinterp.engine.backend.cpu;

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
        trainForward(seg(x), seg(gamma), seg(beta), seg(runningMean), seg(runningVar), momentum, eps, seg(y), seg(saveMean),
                seg(saveInvStd), x.dim(0), x.dim(1), hw(x));
    }

    @Override
    public void inferenceForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, float eps, Tensor y) {
        inferenceForward(seg(x), seg(gamma), seg(beta), seg(runningMean), seg(runningVar), eps, seg(y), x.dim(0), x.dim(1), hw(x));
    }

    @Override
    public void trainBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, float eps, Tensor dx,
                              Tensor dgamma, Tensor dbeta) {
        trainBackward(seg(x), seg(dy), seg(gamma), seg(saveMean), seg(saveInvStd), seg(dx), seg(dgamma), seg(dbeta), x.dim(0),
                x.dim(1), hw(x));
    }

    @Override
    public void inferenceBackward(Tensor x, Tensor dy, Tensor gamma, Tensor runningMean, Tensor runningVar, float eps, Tensor dx,
                                  Tensor dgamma, Tensor dbeta) {
        inferenceBackward(seg(x), seg(dy), seg(gamma), seg(runningMean), seg(runningVar), eps, seg(dx), seg(dgamma), seg(dbeta),
                x.dim(0), x.dim(1), hw(x));
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
}
