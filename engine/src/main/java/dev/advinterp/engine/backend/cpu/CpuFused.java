package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.FusedKernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The fused primitives: softmax cross-entropy and feature matching with their gradients in one
 * pass, and the in-place FGSM step and SGD update. The losses reduce as {@link CpuReductions}
 * does: fixed blocks in a fixed order, whatever the thread count.
 */
final class CpuFused implements FusedKernels {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    /** Java on bounds-checked segments. */
    @Override
    public boolean boundsChecked() {
        return true;
    }

    private static MemorySegment seg(Tensor t) {
        return t == null ? null : t.segment();
    }

    @Override
    public double softmaxCrossEntropy(Tensor logits, int rows, int cols, int[] labels, Tensor grad, float gradScale,
                                      float[] rowLosses) {
        return softmaxCrossEntropy(seg(logits), rows, cols, labels, seg(grad), gradScale, rowLosses);
    }

    @Override
    public double featureMatching(Tensor a, Tensor b, Tensor gradA, Tensor gradB) {
        return featureMatching(seg(a), seg(b), seg(gradA), seg(gradB), a.numel());
    }

    @Override
    public void fgsmStep(Tensor x, Tensor grad, Tensor x0, float alpha, float eps, float[] lo, float[] hi) {
        int channels = x.rank() >= 2 ? x.dim(1) : 1;
        int inner = x.rank() >= 2 ? Math.toIntExact(x.shape().sizeFrom(2)) : Math.toIntExact(x.numel());
        int planes = Math.toIntExact(x.numel() / inner);
        fgsmStep(seg(x), seg(grad), seg(x0), alpha, eps, lo, hi, planes, channels, inner);
    }

    @Override
    public void sgdUpdate(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum, float dampening,
                          float weightDecay, boolean nesterov) {
        sgd(seg(param), seg(grad), seg(momentumBuffer), lr, momentum, dampening, weightDecay, nesterov, param.numel());
    }

    /** The norms summed in float64 in column order; one row per task. See {@link dev.advinterp.engine.backend.Backend#l2Step}. */
    @Override
    public void l2Step(Tensor x, Tensor grad, Tensor x0, int rows, int cols, float alpha, float eps, float lo, float hi) {
        MemorySegment xs = x.segment(), gs = grad.segment(), os = x0.segment();
        Parallel.forRange(rows, 1, (s, e) -> {
            for (int r = s; r < e; r++) {
                long b = (long) r * cols;
                double gn = 0;
                for (int j = 0; j < cols; j++) gn += (double) gs.getAtIndex(F, b + j) * gs.getAtIndex(F, b + j);
                gn = Math.sqrt(gn);
                double dn = 0;
                for (int j = 0; j < cols; j++) {
                    float v = xs.getAtIndex(F, b + j);
                    if (gn > 0) v += (float) (alpha * gs.getAtIndex(F, b + j) / gn);
                    xs.setAtIndex(F, b + j, v);
                    double d = v - os.getAtIndex(F, b + j);
                    dn += d * d;
                }
                dn = Math.sqrt(dn);
                double f = dn > eps ? eps / dn : 1.0;
                for (int j = 0; j < cols; j++) {
                    float o = os.getAtIndex(F, b + j);
                    float v = (float) (o + (xs.getAtIndex(F, b + j) - o) * f);
                    xs.setAtIndex(F, b + j, Math.min(hi, Math.max(lo, v)));
                }
            }
        });
    }

    /** The norm summed in float64 in column order; one row per task. See {@link dev.advinterp.engine.backend.Backend#l2AdamStep}. */
    @Override
    public void l2AdamStep(Tensor x, Tensor grad, Tensor x0, Tensor m, Tensor v, int rows, int cols, double[] weights, float lr,
                           double beta1, double beta2, double epsilon, int step, float lo, float hi) {
        MemorySegment xs = x.segment(), gs = grad.segment(), os = x0.segment(), ms = m.segment(), vs = v.segment();
        double c1 = 1 - Math.pow(beta1, step), c2 = 1 - Math.pow(beta2, step);
        Parallel.forRange(rows, 1, (s, e) -> {
            for (int r = s; r < e; r++) {
                long b = (long) r * cols;
                double norm = 0;
                for (int j = 0; j < cols; j++) {
                    double d = xs.getAtIndex(F, b + j) - os.getAtIndex(F, b + j);
                    norm += d * d;
                }
                norm = Math.sqrt(norm);
                for (int j = 0; j < cols; j++) {
                    long i = b + j;
                    float xv = xs.getAtIndex(F, i);
                    double g = weights[r] * gs.getAtIndex(F, i) + (norm > 0 ? (xv - os.getAtIndex(F, i)) / norm : 0);
                    float mv = (float) (beta1 * ms.getAtIndex(F, i) + (1 - beta1) * g);
                    float vv = (float) (beta2 * vs.getAtIndex(F, i) + (1 - beta2) * g * g);
                    ms.setAtIndex(F, i, mv);
                    vs.setAtIndex(F, i, vv);
                    double stepSize = lr * (mv / c1) / (Math.sqrt(vv / c2) + epsilon);
                    xs.setAtIndex(F, i, Math.min(hi, Math.max(lo, (float) (xv - stepSize))));
                }
            }
        });
    }

    // ------------------------------------------------------------------ on segments

    /**
     * Row r: m = max, lse = m + log Σ exp(x − m), loss_r = lse − x[label]; grad = scale·(exp(x − lse) − onehot)/rows.
     * Reads the logits three times and writes the gradient once, one row per task, on the Vector API
     * with exp in float64 lanes ({@link CpuVectors#sumOfExp}).
     */
    static double softmaxCrossEntropy(MemorySegment logits, int rows, int cols, int[] labels, MemorySegment grad,
                                      float gradScale, float[] rowLosses) {
        double[] losses = new double[rows];
        float gs = gradScale / rows;
        Parallel.forRange(rows, Math.max(1, 4096 / cols), (s, e) -> {
            for (int r = s; r < e; r++) {
                long b = (long) r * cols;
                float m = CpuVectors.max(logits, b, b + cols); // NaN if the row holds one
                double lse = m + Math.log(CpuVectors.sumOfExp(logits, b, b + cols, m));
                long label = b + labels[r];
                losses[r] = Float.isNaN(m) ? Double.NaN : lse - logits.getAtIndex(F, label);
                if (grad != null) {
                    CpuVectors.expScaled(logits, b, b + cols, lse, gs, grad);
                    grad.setAtIndex(F, label, (float) ((Math.exp(logits.getAtIndex(F, label) - lse) - 1) * gs));
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

    /**
     * loss = mean((a − b)²); gradA = 2(a − b)/N; gradB = −gradA. Reads a and b once, writes each
     * gradient once (16 bytes per element), in the fixed blocks of the reductions, on the Vector API.
     * The gradients are bit-identical to a one-by-one loop; the loss sums exact float64 squares in
     * lanes ({@link CpuVectors#squaredDifference}).
     */
    static double featureMatching(MemorySegment a, MemorySegment b, MemorySegment gradA, MemorySegment gradB, long n) {
        float k = 2f / n;
        return CpuReductions.blockedSum(n, (s, e) -> CpuVectors.squaredDifference(a, b, s, e, k, gradA, gradB)) / n;
    }

    /**
     * x ← clip(x + α·sign(g), max(x0 − ε, lo[c]), min(x0 + ε, hi[c])), sign(0) = 0, per plane of
     * {@code inner} elements whose channel is {@code plane % channels}. Reads x, g, x0 and writes x:
     * 16 bytes per element, so it is memory-bound: the Vector API over the segments, the flat
     * element range split across the cores whatever the shape (a 1-D tensor or a single plane
     * too), each block cut at plane boundaries for its channel's bounds. The same operations in
     * the same order as {@link #fgsmStepScalar} (no fused multiply-add), so bit-identical to it.
     */
    static void fgsmStep(MemorySegment x, MemorySegment g, MemorySegment x0, float alpha, float eps, float[] lo, float[] hi,
                         int planes, int channels, int inner) {
        CpuElementwise.forBlocks((long) planes * inner, (s, e) -> {
            for (long start = s; start < e; ) {
                long plane = start / inner;
                long end = Math.min(e, (plane + 1) * inner);
                int c = lo.length == 1 ? 0 : (int) (plane % channels);
                fgsmRange(x, g, x0, alpha, eps, lo[c], hi[c], start, end);
                start = end;
            }
        });
    }

    private static void fgsmRange(MemorySegment x, MemorySegment g, MemorySegment x0, float alpha, float eps, float l, float h, long s, long e) {
        FloatVector zero = FloatVector.zero(S), one = FloatVector.broadcast(S, 1f), minusOne = FloatVector.broadcast(S, -1f);
        long i = s;
        for (long bound = s + S.loopBound(e - s); i < bound; i += S.length()) {
            long off = i * Float.BYTES;
            FloatVector gv = FloatVector.fromMemorySegment(S, g, off, NATIVE);
            FloatVector sign = zero.blend(one, gv.compare(VectorOperators.GT, 0f)).blend(minusOne, gv.compare(VectorOperators.LT, 0f));
            FloatVector v = FloatVector.fromMemorySegment(S, x, off, NATIVE).add(sign.mul(alpha));
            FloatVector o = FloatVector.fromMemorySegment(S, x0, off, NATIVE);
            FloatVector lower = o.sub(eps).max(l), upper = o.add(eps).min(h);
            v.max(lower).min(upper).intoMemorySegment(x, off, NATIVE);
        }
        fgsmScalarRange(x, g, x0, alpha, eps, l, h, i, e);
    }

    /** Elements [s, e) one at a time, with one channel's bounds: the vector loop's tail and the reference. */
    private static void fgsmScalarRange(MemorySegment x, MemorySegment g, MemorySegment x0, float alpha, float eps, float l, float h, long s, long e) {
        for (long i = s; i < e; i++) {
            float gv = g.getAtIndex(F, i);
            float sign = gv > 0f ? 1f : (gv < 0f ? -1f : 0f);
            float v = x.getAtIndex(F, i) + alpha * sign;
            float o = x0.getAtIndex(F, i);
            float lower = Math.max(o - eps, l), upper = Math.min(o + eps, h);
            x.setAtIndex(F, i, Math.min(Math.max(v, lower), upper));
        }
    }

    /** The FGSM step one element at a time: the reference {@link #fgsmStep} is tested bit for bit against. */
    static void fgsmStepScalar(MemorySegment x, MemorySegment g, MemorySegment x0, float alpha, float eps, float[] lo, float[] hi,
                               int planes, int channels, int inner) {
        for (int pl = 0; pl < planes; pl++) {
            int c = lo.length == 1 ? 0 : pl % channels;
            fgsmScalarRange(x, g, x0, alpha, eps, lo[c], hi[c], (long) pl * inner, (long) (pl + 1) * inner);
        }
    }

    /**
     * PyTorch's SGD: g ← grad + wd·p; buf ← momentum·buf + (1 − dampening)·g;
     * p ← p − lr·(nesterov ? g + momentum·buf : buf); without momentum p ← p − lr·g. The Vector
     * API over blocks split across the cores, the operations in {@link #sgdScalar}'s order (no
     * fused multiply-add): bit-identical to it.
     */
    static void sgd(MemorySegment p, MemorySegment grad, MemorySegment buf, float lr, float momentum, float dampening,
                    float wd, boolean nesterov, long n) {
        float keep = 1f - dampening;
        CpuElementwise.forBlocks(n, (s, e) -> {
            long i = s;
            for (long bound = s + S.loopBound(e - s); i < bound; i += S.length()) {
                long off = i * Float.BYTES;
                FloatVector pv = FloatVector.fromMemorySegment(S, p, off, NATIVE);
                FloatVector g = FloatVector.fromMemorySegment(S, grad, off, NATIVE).add(pv.mul(wd));
                if (momentum != 0f) {
                    FloatVector b = FloatVector.fromMemorySegment(S, buf, off, NATIVE).mul(momentum).add(g.mul(keep));
                    b.intoMemorySegment(buf, off, NATIVE);
                    g = nesterov ? g.add(b.mul(momentum)) : b;
                }
                pv.sub(g.mul(lr)).intoMemorySegment(p, off, NATIVE);
            }
            sgdScalar(p, grad, buf, lr, momentum, dampening, wd, nesterov, i, e);
        });
    }

    /** The SGD update of elements [s, e) one at a time: {@link #sgd}'s tail and its reference. */
    static void sgdScalar(MemorySegment p, MemorySegment grad, MemorySegment buf, float lr, float momentum, float dampening,
                          float wd, boolean nesterov, long s, long e) {
        for (long i = s; i < e; i++) {
            float pv = p.getAtIndex(F, i);
            float g = grad.getAtIndex(F, i) + wd * pv;
            if (momentum != 0f) {
                float b = momentum * buf.getAtIndex(F, i) + (1f - dampening) * g;
                buf.setAtIndex(F, i, b);
                g = nesterov ? g + momentum * b : b;
            }
            p.setAtIndex(F, i, pv - lr * g);
        }
    }
}
