package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.BatchNormKernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Batch normalisation over {@code [n, c, hw]}, one channel per task, statistics in float64 with
 * two passes (mean, then centred variance) so that they do not lose precision on large batches.
 * Training forward reads x twice and writes y once (12 bytes per element); backward reads x and
 * dy twice and writes dx once.
 */
final class CpuBatchNorm implements BatchNormKernels {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

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
                double sum = 0;
                for (int i = 0; i < n; i++) {
                    long b = ((long) i * c + ch) * hw;
                    for (int k = 0; k < hw; k++) sum += x.getAtIndex(F, b + k);
                }
                double mean = sum / m;
                double sq = 0;
                for (int i = 0; i < n; i++) {
                    long b = ((long) i * c + ch) * hw;
                    for (int k = 0; k < hw; k++) {
                        double d = x.getAtIndex(F, b + k) - mean;
                        sq += d * d;
                    }
                }
                double var = sq / m;
                double invStd = 1.0 / Math.sqrt(var + eps);
                float scale = (float) (gamma.getAtIndex(F, ch) * invStd);
                float shift = (float) (beta.getAtIndex(F, ch) - mean * gamma.getAtIndex(F, ch) * invStd);
                for (int i = 0; i < n; i++) {
                    long b = ((long) i * c + ch) * hw;
                    for (int k = 0; k < hw; k++) y.setAtIndex(F, b + k, x.getAtIndex(F, b + k) * scale + shift);
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
                for (int k = 0; k < hw; k++) y.setAtIndex(F, b + k, x.getAtIndex(F, b + k) * scale + shift);
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
            for (int ch = s; ch < e; ch++) {
                double mean = saveMean.getAtIndex(F, ch), invStd = saveInvStd.getAtIndex(F, ch);
                double sdy = 0, sdyx = 0;
                for (int i = 0; i < n; i++) {
                    long b = ((long) i * c + ch) * hw;
                    for (int k = 0; k < hw; k++) {
                        double d = dy.getAtIndex(F, b + k);
                        sdy += d;
                        sdyx += d * (x.getAtIndex(F, b + k) - mean);
                    }
                }
                double dg = sdyx * invStd;
                dgamma.setAtIndex(F, ch, (float) dg);
                dbeta.setAtIndex(F, ch, (float) sdy);
                double k1 = gamma.getAtIndex(F, ch) * invStd / m;
                float a = (float) (k1 * m), bco = (float) (k1 * dg * invStd), cco = (float) (k1 * sdy);
                float meanF = (float) mean;
                for (int i = 0; i < n; i++) {
                    long b = ((long) i * c + ch) * hw;
                    for (int k = 0; k < hw; k++) {
                        dx.setAtIndex(F, b + k, a * dy.getAtIndex(F, b + k) - bco * (x.getAtIndex(F, b + k) - meanF) - cco);
                    }
                }
            }
        });
    }

    static void inferenceBackward(MemorySegment x, MemorySegment dy, MemorySegment gamma, MemorySegment runMean,
                                  MemorySegment runVar, float eps, MemorySegment dx, MemorySegment dgamma,
                                  MemorySegment dbeta, int n, int c, int hw) {
        Parallel.forRange(c, 1, (s, e) -> {
            for (int ch = s; ch < e; ch++) {
                double invStd = 1.0 / Math.sqrt(runVar.getAtIndex(F, ch) + (double) eps);
                double mean = runMean.getAtIndex(F, ch);
                float scale = (float) (gamma.getAtIndex(F, ch) * invStd);
                double sdy = 0, sdyx = 0;
                for (int i = 0; i < n; i++) {
                    long b = ((long) i * c + ch) * hw;
                    for (int k = 0; k < hw; k++) {
                        float d = dy.getAtIndex(F, b + k);
                        dx.setAtIndex(F, b + k, d * scale);
                        sdy += d;
                        sdyx += d * (x.getAtIndex(F, b + k) - mean);
                    }
                }
                if (dgamma != null) dgamma.setAtIndex(F, ch, (float) (sdyx * invStd));
                if (dbeta != null) dbeta.setAtIndex(F, ch, (float) sdy);
            }
        });
    }
}
