package dev.advinterp.engine.backend.cuda;

import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.FusedKernels;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

import static dev.advinterp.engine.backend.cuda.Kernel.f32;
import static dev.advinterp.engine.backend.cuda.Kernel.f64;
import static dev.advinterp.engine.backend.cuda.Kernel.i32;
import static dev.advinterp.engine.backend.cuda.Kernel.i64;

/**
 * The fused primitives on the GPU, each one pass of the project's kernels: softmax cross-entropy
 * and feature matching with their gradients (losses reduced in a fixed order), the FGSM step, the
 * L2 attacks' steps and the SGD update in place.
 */
final class CudaFused implements FusedKernels {
    /** Moves a float4 per thread, so a quarter of the elementwise grid. */
    static final Kernel FGSM_STEP = Kernel.of("fgsm_step_f32", "fgsm_step.cu", new Grid.GridStride(4), false,
            "x ← clip(x + α·sign(g), max(x0−ε, lo[c]), min(x0+ε, hi[c])), float4", "16", Kernel.ptr("x"), Kernel.ptr("grad"), Kernel.ptr("x0"),
            Kernel.ptr("lo"), Kernel.ptr("hi"), f32("alpha"), f32("eps"), i32("channels"), i32("inner"), i32("perChannel"), i64("n"));
    static final Kernel FEATURE_MATCHING = Kernel.of("feature_matching_f32", "feature_matching.cu",
            new Grid.Fixed(KernelLauncher.REDUCTION_BLOCKS), true,
            "Σ(a−b)² partials and gradA = s·(a−b), gradB = −gradA in one pass, float4", "16", Kernel.ptr("a"), Kernel.ptr("b"),
            Kernel.ptr("gradA"), Kernel.ptr("gradB"), Kernel.ptr("partials"), f32("gradScale"), i64("n"));
    /** gradScale already includes 1/rows. */
    static final Kernel SOFTMAX_XENT = Kernel.of("softmax_xent_f32", "softmax_xent.cu", new Grid.BlockPer("rows"), true,
            "per-row loss lse − x[y] and gradient s·(softmax − onehot)", "8", Kernel.ptr("logits"), Kernel.ptr("labels"), Kernel.ptr("grad"),
            Kernel.ptr("rowLoss"), i32("rows"), i32("cols"), f32("gradScale"));
    static final Kernel SGD_MOMENTUM = Kernel.of("sgd_momentum_f32", "sgd.cu", new Grid.GridStride(1), false,
            "PyTorch's SGD with momentum, dampening, weight decay, Nesterov, float4", "20", Kernel.ptr("p"), Kernel.ptr("grad"),
            Kernel.ptr("buf"), f32("lr"), f32("momentum"), f32("dampening"), f32("weightDecay"), i32("nesterov"), i64("n"));

    static final Kernel L2_STEP = Kernel.of("l2_step_f32", "l2_step.cu", new Grid.BlockPer("rows"), true,
            "per row: x ← clip(x0 + Π_ε(x + α·g/‖g‖ − x0), lo, hi), PGD in the L2 norm", "28", Kernel.ptr("x"), Kernel.ptr("grad"),
            Kernel.ptr("x0"), f32("alpha"), f32("eps"), f32("lo"), f32("hi"), i32("rows"), i32("cols"));
    static final Kernel L2_ADAM_STEP = Kernel.of("l2_adam_step_f32", "l2_step.cu", new Grid.BlockPer("rows"), true,
            "per row: Adam on ‖x − x0‖₂ + w[r]·f given ∇f, then the clip", "40", Kernel.ptr("x"), Kernel.ptr("grad"), Kernel.ptr("x0"),
            Kernel.ptr("m"), Kernel.ptr("v"), Kernel.ptr("w"), f32("lr"), f64("beta1"), f64("beta2"), f64("epsilon"), f64("c1"),
            f64("c2"), f32("lo"), f32("hi"), i32("rows"), i32("cols"));

    static final List<Kernel> KERNELS = List.of(FGSM_STEP, FEATURE_MATCHING, SOFTMAX_XENT, SGD_MOMENTUM, L2_STEP, L2_ADAM_STEP);

    private final CudaDevice device;
    private final KernelLauncher k;
    private final Scratch partials, result, rowBuffer, labelBuffer, boundsBuffer, weightBuffer;
    private float[] boundsLo, boundsHi;
    private double[] weights;

    CudaFused(CudaDevice device) {
        this.device = device;
        this.k = device.kernels();
        this.partials = device.scratch("reduction partials");
        this.result = device.scratch("reduction result");
        this.rowBuffer = device.scratch("per-row values");
        this.labelBuffer = device.scratch("labels");
        this.boundsBuffer = device.scratch("FGSM bounds");
        this.weightBuffer = device.scratch("row weights");
    }

    /**
     * The kernel leaves one float loss per row; the rows are summed here in float64 in row order,
     * as the CPU backend sums its per-row losses.
     */
    @Override
    public double softmaxCrossEntropy(Tensor logits, int rows, int cols, int[] labels, Tensor grad, float gradScale,
                                      float[] rowLosses) {
        long lab = labelBuffer.ensure((long) rows * Integer.BYTES);
        long loss = rowBuffer.ensure((long) rows * Float.BYTES);
        device.intsToDevice(labels, rows, lab);
        k.launch(SOFTMAX_XENT, k.args().ptr(logits).ptr(lab).ptr(grad).ptr(loss).i32(rows).i32(cols).f32(gradScale / rows));
        float[] losses = new float[rows];
        device.deviceToHost(loss, MemorySegment.ofArray(losses), 0, (long) rows * Float.BYTES);
        double total = 0;
        for (int r = 0; r < rows; r++) {
            total += losses[r];
            if (rowLosses != null) rowLosses[r] = losses[r];
        }
        return total / rows;
    }

    @Override
    public double featureMatching(Tensor a, Tensor b, Tensor gradA, Tensor gradB) {
        long n = a.numel();
        long part = partials.ensure((long) KernelLauncher.REDUCTION_BLOCKS * Double.BYTES);
        long out = result.ensure(Double.BYTES);
        k.launch(FEATURE_MATCHING, k.args().ptr(a).ptr(b).ptr(gradA).ptr(gradB).ptr(part).f32(2f / n).i64(n));
        return CudaReductions.finish(k, device, part, out) / n;
    }

    @Override
    public void fgsmStep(Tensor x, Tensor grad, Tensor x0, float alpha, float eps, float[] lo, float[] hi) {
        int channels = x.rank() >= 2 ? x.dim(1) : 1;
        int inner = x.rank() >= 2 ? Math.toIntExact(x.shape().sizeFrom(2)) : Math.toIntExact(x.numel());
        long bounds = deviceBounds(lo, hi);
        k.launch(FGSM_STEP, x.numel(), k.args().ptr(x).ptr(grad).ptr(x0).ptr(bounds).ptr(bounds + (long) lo.length * Float.BYTES)
                .f32(alpha).f32(eps).i32(channels).i32(inner).i32(lo.length != 1 ? 1 : 0).i64(x.numel()));
    }

    /** lo then hi in one small device array, uploaded only when the bounds change (an attack reuses them every step). */
    private long deviceBounds(float[] lo, float[] hi) {
        long address = boundsBuffer.ensure(2L * lo.length * Float.BYTES);
        if (!Arrays.equals(lo, boundsLo) || !Arrays.equals(hi, boundsHi) || boundsBuffer.reallocated) {
            float[] both = new float[2 * lo.length];
            System.arraycopy(lo, 0, both, 0, lo.length);
            System.arraycopy(hi, 0, both, lo.length, hi.length);
            device.hostToDevice(MemorySegment.ofArray(both), 0, address, (long) both.length * Float.BYTES);
            boundsLo = lo.clone();
            boundsHi = hi.clone();
            boundsBuffer.reallocated = false;
        }
        return address;
    }

    @Override
    public void l2Step(Tensor x, Tensor grad, Tensor x0, int rows, int cols, float alpha, float eps, float lo, float hi) {
        k.launch(L2_STEP, k.args().ptr(x).ptr(grad).ptr(x0).f32(alpha).f32(eps).f32(lo).f32(hi).i32(rows).i32(cols));
    }

    /** c1 and c2 are computed here as on the CPU (Java's Math.pow), so that both backends use the same bits. */
    @Override
    public void l2AdamStep(Tensor x, Tensor grad, Tensor x0, Tensor m, Tensor v, int rows, int cols, double[] weights, float lr,
                           double beta1, double beta2, double epsilon, int step, float lo, float hi) {
        double c1 = 1 - Math.pow(beta1, step), c2 = 1 - Math.pow(beta2, step);
        k.launch(L2_ADAM_STEP, k.args().ptr(x).ptr(grad).ptr(x0).ptr(m).ptr(v).ptr(deviceWeights(weights, rows)).f32(lr).f64(beta1)
                .f64(beta2).f64(epsilon).f64(c1).f64(c2).f32(lo).f32(hi).i32(rows).i32(cols));
    }

    /** The first {@code rows} weights in a device array, uploaded only when they change (they hold for a round of steps). */
    private long deviceWeights(double[] w, int rows) {
        long address = weightBuffer.ensure((long) rows * Double.BYTES);
        double[] first = Arrays.copyOf(w, rows);
        if (!Arrays.equals(first, weights) || weightBuffer.reallocated) {
            device.hostToDevice(MemorySegment.ofArray(first), 0, address, (long) rows * Double.BYTES);
            weights = first;
            weightBuffer.reallocated = false;
        }
        return address;
    }

    @Override
    public void sgdUpdate(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum, float dampening,
                          float weightDecay, boolean nesterov) {
        k.launch(SGD_MOMENTUM, param.numel(), k.args().ptr(param).ptr(grad).ptr(momentum == 0f ? null : momentumBuffer).f32(lr)
                .f32(momentum).f32(dampening).f32(weightDecay).i32(nesterov ? 1 : 0).i64(param.numel()));
    }
}
