package dev.advinterp.engine.backend;

import dev.advinterp.engine.DeviceMemory;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.memory.NativeMemory;

/**
 * The primitive kernels of one device, and the device's memory: a backend is the
 * {@link DeviceMemory} its tensors live in (a scope opened on it makes its tensors there), and
 * {@link Backends#of} finds the backend of a tensor from that memory. Outputs are preallocated by
 * the caller and fully written by the kernel. All tensors are float32, contiguous, row-major (NCHW)
 * to every reader; the CPU backend may keep a storage's bytes channels-last between the kernels
 * that read that layout ({@link dev.advinterp.engine.ChannelsLast}, opt-in).
 *
 * <p>Each public method here is the one entry of a primitive: it checks its arguments
 * ({@link BackendCall}: every tensor present, alive and on this backend's device; and, before
 * native code, the sizes), times the call when the backend is profiled, and hands the tensors to
 * the backend's kernels of that family ({@link Families}). A concrete backend supplies its
 * families, its memory and its lifecycle, and nothing here again. The CPU backend is the reference
 * implementation of every primitive.
 */
public abstract class Backend implements DeviceMemory {

    /** A backend's kernels, family by family; each family is one file per backend. */
    public record Families(GemmKernels gemm, ConvolutionKernels convolution, PoolingKernels pooling, BatchNormKernels batchNorm,
                           ElementwiseKernels elementwise, ReductionKernels reductions, FusedKernels fused) {
    }

    private final Families k;
    private volatile Profiler profiler;

    protected Backend(Families families) {
        this.k = families;
    }

    /** Whether {@code t} lives where this backend computes (its memory's {@link #home()}). */
    public boolean owns(Tensor t) {
        return t.memory() == home();
    }

    /**
     * Called first in every primitive, before any check: the CUDA backend refuses to run once
     * closed and binds its context to the calling thread here.
     */
    protected void beginCall(String op) {
    }

    /** Waits until the work queued so far has finished (a GPU's stream); the CPU's is done on return. */
    public void synchronize() {
    }

    /** What this backend can say about the machine, for a person ({@code advinterp doctor}). */
    public Diagnostics diagnostics() {
        return Diagnostics.builder().line("backend", describe()).build();
    }

    private BackendCall call(String op, KernelFamily family) {
        beginCall(op);
        return new BackendCall(this, op, family);
    }

    // ------------------------------------------------------------------ profiling

    /** Times every primitive from now on (see {@link Profiler}); the profiler already running, if any. */
    public synchronized Profiler startProfiling() {
        if (profiler == null) profiler = new Profiler();
        return profiler;
    }

    /** The profiler timing this backend's calls, or null. */
    public Profiler profiler() {
        return profiler;
    }

    public synchronized void stopProfiling() {
        profiler = null;
    }

    // ------------------------------------------------------------------ memory

    public final void copyFromHost(float[] src, int srcOffset, Tensor dst) {
        try (BackendCall c = call("copyFromHost", null).on("destination", dst).hostRange(src.length, srcOffset, dst.numel())) {
            writeFloats(src, srcOffset, dst.segment(), 0, Math.toIntExact(dst.numel()));
        }
    }

    public final void copyToHost(Tensor src, float[] dst, int dstOffset) {
        try (BackendCall c = call("copyToHost", null).on("source", src).hostRange(dst.length, dstOffset, src.numel())) {
            readFloats(src.segment(), 0, dst, dstOffset, Math.toIntExact(src.numel()));
        }
    }

    /** dst ← src, same number of elements. */
    public final void copy(Tensor src, Tensor dst) {
        try (BackendCall c = call("copy", null).on("source", src).on("destination", dst).sameNumel(src, "source", dst, "destination")) {
            copyBytes(src.segment(), 0, dst.segment(), 0, src.numel() * Float.BYTES);
        }
    }

    public final void fill(Tensor t, float value) {
        try (BackendCall c = call("fill", null).on("tensor", t)) {
            fillFloats(t.segment(), t.numel(), value);
        }
    }

    /**
     * Bytes this backend's memory holds for tensors and its own buffers now (host memory for the
     * CPU, device memory for a GPU), as its allocator counts them.
     */
    public long memoryInUse() {
        return NativeMemory.currentBytes();
    }

    /** The largest {@link #memoryInUse()} since the last {@link #resetMemoryPeak()}. */
    public long memoryPeak() {
        return NativeMemory.peakBytes();
    }

    /** Starts a new peak from the current use. */
    public void resetMemoryPeak() {
        NativeMemory.resetPeak();
    }

    /** Bytes of the reusable buffers the backend keeps between calls (im2col, cuDNN workspace), included above. */
    public long workspaceBytes() {
        return 0;
    }

    // ------------------------------------------------------------------ dense algebra

    /**
     * Row-major {@code C = alpha·op(A)·op(B) + beta·C} on float offsets into the tensors' storage;
     * {@code op(A)} is m×k, {@code op(B)} is k×n.
     */
    public final void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, long aOffset, int lda,
                           Tensor b, long bOffset, int ldb, float beta, Tensor c, long cOffset, int ldc) {
        try (BackendCall call = call("gemm", this.k.gemm()).on("A", a).on("B", b).on("C", c)
                .gemm(transA, transB, m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc)) {
            this.k.gemm().gemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
        }
    }

    /** {@code y[o, c, i] += bias[c]} for y viewed as {@code [outer, channels, inner]}. */
    public final void addBias(Tensor y, Tensor bias, int outer, int channels, int inner) {
        try (BackendCall c = call("addBias", k.elementwise()).on("y", y).on("bias", bias).planes("y", y, outer, channels, inner)
                .numel("bias", bias, channels)) {
            k.elementwise().addBias(y, bias, outer, channels, inner);
        }
    }

    /**
     * {@code y[o, c, i] = scale[c]·x[o, c, i] + shift[c]} for x viewed as {@code [outer, channels, inner]};
     * shift may be null (then 0). Per-channel input normalisation and its backward.
     */
    public final void channelAffine(Tensor x, Tensor scale, Tensor shift, int outer, int channels, int inner, Tensor y) {
        try (BackendCall c = call("channelAffine", k.elementwise()).on("x", x).on("scale", scale).optional("shift", shift).on("y", y)
                .planes("x", x, outer, channels, inner).sameNumel(x, "x", y, "y").numel("scale", scale, channels)
                .numel("shift", shift, channels)) {
            k.elementwise().channelAffine(x, scale, shift, outer, channels, inner, y);
        }
    }

    /** {@code dbias[c] = Σ_{o,i} dy[o, c, i]} (overwrites). */
    public final void sumBias(Tensor dy, int outer, int channels, int inner, Tensor dbias) {
        try (BackendCall c = call("sumBias", k.elementwise()).on("dy", dy).on("dbias", dbias).planes("dy", dy, outer, channels, inner)
                .numel("dbias", dbias, channels)) {
            k.elementwise().sumBias(dy, outer, channels, inner, dbias);
        }
    }

    // ------------------------------------------------------------------ convolution

    /** y = conv(x, w) + bias; bias may be null. */
    public final void conv2dForward(Tensor x, Tensor w, Tensor bias, ConvGeometry g, Tensor y) {
        try (BackendCall c = call("conv2dForward", k.convolution()).on("input", x).on("weight", w).optional("bias", bias)
                .on("output", y).conv(g, x, w, bias, y)) {
            k.convolution().forward(x, w, bias, g, y);
        }
    }

    /** dx = conv_transpose(dy, w) (overwrites dx). */
    public final void conv2dBackwardData(Tensor dy, Tensor w, ConvGeometry g, Tensor dx) {
        try (BackendCall c = call("conv2dBackwardData", k.convolution()).on("dy", dy).on("weight", w).on("dx", dx)
                .conv(g, dx, w, null, dy)) {
            k.convolution().backwardData(dy, w, g, dx);
        }
    }

    /** dw = Σ_n dy ⋆ x (overwrites), dbias = Σ dy over n, h, w (overwrites; may be null). */
    public final void conv2dBackwardFilter(Tensor x, Tensor dy, ConvGeometry g, Tensor dw, Tensor dbias) {
        try (BackendCall c = call("conv2dBackwardFilter", k.convolution()).on("input", x).on("dy", dy).on("dw", dw)
                .optional("dbias", dbias).conv(g, x, dw, dbias, dy)) {
            k.convolution().backwardFilter(x, dy, g, dw, dbias);
        }
    }

    // ------------------------------------------------------------------ pooling

    public final void maxPool2dForward(Tensor x, PoolGeometry g, Tensor y) {
        try (BackendCall c = call("maxPool2dForward", k.pooling()).on("input", x).on("output", y).pool(g, x, y)) {
            k.pooling().maxForward(x, g, y);
        }
    }

    /**
     * dx (overwritten) gets dy at the first maximum of each window (the last NaN where the window
     * holds one), summed where windows overlap. y is the forward's output, which finds the maxima
     * without recomputing them (cuDNN's backward requires it).
     */
    public final void maxPool2dBackward(Tensor x, Tensor y, Tensor dy, PoolGeometry g, Tensor dx) {
        try (BackendCall c = call("maxPool2dBackward", k.pooling()).on("input", x).on("output", y).on("dy", dy).on("dx", dx)
                .pool(g, x, y).sameNumel(y, "output", dy, "dy").sameNumel(x, "input", dx, "dx")) {
            k.pooling().maxBackward(x, y, dy, g, dx);
        }
    }

    public final void avgPool2dForward(Tensor x, PoolGeometry g, Tensor y) {
        try (BackendCall c = call("avgPool2dForward", k.pooling()).on("input", x).on("output", y).pool(g, x, y)) {
            k.pooling().avgForward(x, g, y);
        }
    }

    /**
     * dx (overwritten) gets each window's dy divided by the window's size. The gradient depends on
     * neither x nor y; both are passed because cuDNN's backward takes them.
     */
    public final void avgPool2dBackward(Tensor x, Tensor y, Tensor dy, PoolGeometry g, Tensor dx) {
        try (BackendCall c = call("avgPool2dBackward", k.pooling()).on("input", x).on("output", y).on("dy", dy).on("dx", dx)
                .pool(g, x, y).sameNumel(y, "output", dy, "dy").sameNumel(x, "input", dx, "dx")) {
            k.pooling().avgBackward(x, y, dy, g, dx);
        }
    }

    /** PyTorch's adaptive average pooling: bin i covers [floor(i·H/oh), ceil((i+1)·H/oh)). */
    public final void adaptiveAvgPool2dForward(Tensor x, Tensor y) {
        try (BackendCall c = call("adaptiveAvgPool2dForward", k.pooling()).on("input", x).on("output", y).adaptive(x, y)) {
            k.pooling().adaptiveAvgForward(x, y);
        }
    }

    public final void adaptiveAvgPool2dBackward(Tensor dy, Tensor dx) {
        try (BackendCall c = call("adaptiveAvgPool2dBackward", k.pooling()).on("dy", dy).on("dx", dx).adaptive(dx, dy)) {
            k.pooling().adaptiveAvgBackward(dy, dx);
        }
    }

    // ------------------------------------------------------------------ batch normalisation

    /**
     * Training mode over {@code [n, c, h, w]}: batch statistics per channel, y = γ·x̂ + β;
     * running statistics updated in place as PyTorch does (momentum, unbiased variance);
     * saveMean and saveInvStd ({@code [c]}) keep what the backward needs.
     */
    public final void batchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                            float momentum, float eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        try (BackendCall c = call("batchNormTrainForward", k.batchNorm()).on("x", x).on("gamma", gamma).on("beta", beta)
                .on("running mean", runningMean).on("running var", runningVar).on("y", y).on("saved mean", saveMean)
                .on("saved 1/std", saveInvStd).batchNorm(x, gamma, beta, runningMean, runningVar, saveMean, saveInvStd)
                .sameNumel(x, "x", y, "y")) {
            k.batchNorm().trainForward(x, gamma, beta, runningMean, runningVar, momentum, eps, y, saveMean, saveInvStd);
        }
    }

    /** Evaluation mode: y = γ·(x − running mean)/√(running var + ε) + β. */
    public final void batchNormInferenceForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                                float eps, Tensor y) {
        try (BackendCall c = call("batchNormInferenceForward", k.batchNorm()).on("x", x).on("gamma", gamma).on("beta", beta)
                .on("running mean", runningMean).on("running var", runningVar).on("y", y)
                .batchNorm(x, gamma, beta, runningMean, runningVar).sameNumel(x, "x", y, "y")) {
            k.batchNorm().inferenceForward(x, gamma, beta, runningMean, runningVar, eps, y);
        }
    }

    /**
     * Backward of the training mode (overwrites dx, dgamma, dbeta). eps is the forward's: cuDNN
     * takes it beside the saved statistics, and a library that saves the variance instead of 1/σ
     * (oneDNN) needs it to recover the variance.
     */
    public final void batchNormTrainBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, float eps,
                                             Tensor dx, Tensor dgamma, Tensor dbeta) {
        try (BackendCall c = call("batchNormTrainBackward", k.batchNorm()).on("x", x).on("dy", dy).on("gamma", gamma)
                .on("saved mean", saveMean).on("saved 1/std", saveInvStd).on("dx", dx).on("dgamma", dgamma).on("dbeta", dbeta)
                .batchNorm(x, gamma, saveMean, saveInvStd, dgamma, dbeta).sameNumel(x, "x", dy, "dy").sameNumel(x, "x", dx, "dx")) {
            if (!(eps > 0)) throw new IllegalArgumentException("batchNormTrainBackward: eps must be positive, got " + eps);
            k.batchNorm().trainBackward(x, dy, gamma, saveMean, saveInvStd, eps, dx, dgamma, dbeta);
        }
    }

    /** Backward of the evaluation mode (statistics are constants); dgamma and dbeta may be null. */
    public final void batchNormInferenceBackward(Tensor x, Tensor dy, Tensor gamma, Tensor runningMean, Tensor runningVar,
                                                 float eps, Tensor dx, Tensor dgamma, Tensor dbeta) {
        try (BackendCall c = call("batchNormInferenceBackward", k.batchNorm()).on("x", x).on("dy", dy).on("gamma", gamma)
                .on("running mean", runningMean).on("running var", runningVar).on("dx", dx).optional("dgamma", dgamma)
                .optional("dbeta", dbeta).batchNorm(x, gamma, runningMean, runningVar, dgamma, dbeta).sameNumel(x, "x", dy, "dy")
                .sameNumel(x, "x", dx, "dx")) {
            k.batchNorm().inferenceBackward(x, dy, gamma, runningMean, runningVar, eps, dx, dgamma, dbeta);
        }
    }

    // ------------------------------------------------------------------ activations and elementwise

    public final void reluForward(Tensor x, Tensor y) {
        try (BackendCall c = call("reluForward", k.elementwise()).on("x", x).on("y", y).sameNumel(x, "x", y, "y")) {
            k.elementwise().reluForward(x, y);
        }
    }

    /** dx = dy where y &gt; 0, else 0. */
    public final void reluBackward(Tensor y, Tensor dy, Tensor dx) {
        try (BackendCall c = call("reluBackward", k.elementwise()).on("y", y).on("dy", dy).on("dx", dx).sameNumel(y, "y", dy, "dy")
                .sameNumel(y, "y", dx, "dx")) {
            k.elementwise().reluBackward(y, dy, dx);
        }
    }

    /**
     * Inverted dropout: element i is kept when {@link DropoutMask#keep(long, long, float)} says so,
     * and kept values are scaled by 1/(1−p). The mask is a pure function of (seed, i), so the
     * backward recomputes it instead of storing it.
     */
    public final void dropoutForward(Tensor x, float p, long seed, Tensor y) {
        try (BackendCall c = call("dropoutForward", k.elementwise()).on("x", x).on("y", y).sameNumel(x, "x", y, "y")) {
            k.elementwise().dropoutForward(x, p, seed, y);
        }
    }

    public final void dropoutBackward(Tensor dy, float p, long seed, Tensor dx) {
        try (BackendCall c = call("dropoutBackward", k.elementwise()).on("dy", dy).on("dx", dx).sameNumel(dy, "dy", dx, "dx")) {
            k.elementwise().dropoutBackward(dy, p, seed, dx);
        }
    }

    /** out = a·x + b·y (out may be x or y). */
    public final void axpby(float a, Tensor x, float b, Tensor y, Tensor out) {
        try (BackendCall c = call("axpby", k.elementwise()).on("x", x).on("y", y).on("out", out).sameNumel(x, "x", out, "out")
                .sameNumel(y, "y", out, "out")) {
            k.elementwise().axpby(a, x, b, y, out);
        }
    }

    /** out = a·x (out may be x). */
    public final void scale(Tensor x, float a, Tensor out) {
        try (BackendCall c = call("scale", k.elementwise()).on("x", x).on("out", out).sameNumel(x, "x", out, "out")) {
            k.elementwise().scale(x, a, out);
        }
    }

    // ------------------------------------------------------------------ reductions and selection

    /** Σ x in float64, in a fixed order (deterministic). */
    public final double sum(Tensor x) {
        try (BackendCall c = call("sum", k.reductions()).on("x", x)) {
            return k.reductions().sum(x);
        }
    }

    /** Index of the first maximum of each row of x viewed as {@code [rows, cols]}. */
    public final void argmax(Tensor x, int rows, int cols, int[] out) {
        try (BackendCall c = call("argmax", k.reductions()).on("x", x).rowsCols(x, rows, cols).fitsArray("out", out.length, rows)) {
            k.reductions().argmax(x, rows, cols, out);
        }
    }

    /** The k largest of each row, in descending order (ties: lower index first). */
    public final void topk(Tensor x, int rows, int cols, int k, int[] indices, float[] values) {
        try (BackendCall c = call("topk", this.k.reductions()).on("x", x).rowsCols(x, rows, cols).topK(k, cols)
                .fitsArray("indices", indices.length, (long) rows * k).fitsArray("values", values.length, (long) rows * k)) {
            this.k.reductions().topk(x, rows, cols, k, indices, values);
        }
    }

    /**
     * {@code out[r] = √(Σ_j x[r, j]²)} for x viewed as {@code [rows, cols]}: each row's L2 norm,
     * summed in float64 in a fixed order.
     */
    public final void rowNorms(Tensor x, int rows, int cols, Tensor out) {
        try (BackendCall c = call("rowNorms", k.reductions()).on("x", x).on("out", out).rowsCols(x, rows, cols)
                .numel("out", out, rows)) {
            k.reductions().rowNorms(x, rows, cols, out);
        }
    }

    /** {@code dx[r, j] = norms[r] > 0 ? dy[r]·x[r, j] / norms[r] : 0}: the gradient of {@link #rowNorms} (overwrites dx). */
    public final void rowNormsBackward(Tensor x, Tensor norms, Tensor dy, int rows, int cols, Tensor dx) {
        try (BackendCall c = call("rowNormsBackward", k.reductions()).on("x", x).on("norms", norms).on("dy", dy).on("dx", dx)
                .rowsCols(x, rows, cols).numel("norms", norms, rows).numel("dy", dy, rows).sameNumel(x, "x", dx, "dx")) {
            k.reductions().rowNormsBackward(x, norms, dy, rows, cols, dx);
        }
    }

    // ------------------------------------------------------------------ fused primitives

    /**
     * Mean softmax cross-entropy of logits {@code [rows, cols]} against labels, in one pass; when
     * grad is not null it receives {@code gradScale·(softmax − onehot)/rows}. Per-row losses go to
     * {@code rowLosses} when it is not null. Returns the mean loss (NaN if the logits hold a NaN).
     */
    public final double softmaxCrossEntropy(Tensor logits, int rows, int cols, int[] labels, Tensor grad, float gradScale,
                                            float[] rowLosses) {
        try (BackendCall c = call("softmaxCrossEntropy", k.fused()).on("logits", logits).optional("grad", grad)
                .rowsCols(logits, rows, cols).numel("grad", grad, (long) rows * cols).labels(labels, rows, cols)
                .fitsArray("rowLosses", rowLosses == null ? rows : rowLosses.length, rows)) {
            return k.fused().softmaxCrossEntropy(logits, rows, cols, labels, grad, gradScale, rowLosses);
        }
    }

    /**
     * Feature matching: loss = mean((a − b)²) over all elements, with gradA = 2(a − b)/N and
     * gradB = −gradA, in one pass (either gradient may be null); deterministic reduction.
     */
    public final double featureMatching(Tensor a, Tensor b, Tensor gradA, Tensor gradB) {
        try (BackendCall c = call("featureMatching", k.fused()).on("a", a).on("b", b).optional("gradA", gradA).optional("gradB", gradB)
                .sameNumel(a, "a", b, "b").numel("gradA", gradA, a.numel()).numel("gradB", gradB, a.numel())) {
            return k.fused().featureMatching(a, b, gradA, gradB);
        }
    }

    /**
     * One FGSM step in place on x {@code [n, c, h, w]} (or any rank, with channel dim 1):
     * {@code x ← clip(x + alpha·sign(g), max(x0 − eps, lo[c]), min(x0 + eps, hi[c]))}, sign(0) = 0.
     * lo and hi hold one bound per channel, or a single bound for all.
     */
    public final void fgsmStep(Tensor x, Tensor grad, Tensor x0, float alpha, float eps, float[] lo, float[] hi) {
        try (BackendCall c = call("fgsmStep", k.fused()).on("x", x).on("grad", grad).on("x0", x0).sameNumel(x, "x", grad, "grad")
                .sameNumel(x, "x", x0, "x0").bounds(lo, hi, x.rank() >= 2 ? x.dim(1) : 1)) {
            k.fused().fgsmStep(x, grad, x0, alpha, eps, lo, hi);
        }
    }

    /**
     * One step of PGD in the L2 norm, in place on each row r of x viewed as {@code [rows, cols]}
     * (an image): {@code x ← x + α·g/‖g‖} (no move where ‖g‖ = 0), then the projection onto the
     * ε-ball around x0, {@code x ← x0 + (x − x0)·min(1, ε/‖x − x0‖)}, and the clip to [lo, hi].
     * The norms are float64 sums; α·g is a float product and the projection is taken in float64.
     */
    public final void l2Step(Tensor x, Tensor grad, Tensor x0, int rows, int cols, float alpha, float eps, float lo, float hi) {
        try (BackendCall c = call("l2Step", k.fused()).on("x", x).on("grad", grad).on("x0", x0).rowsCols(x, rows, cols)
                .sameNumel(x, "x", grad, "grad").sameNumel(x, "x", x0, "x0")) {
            k.fused().l2Step(x, grad, x0, rows, cols, alpha, eps, lo, hi);
        }
    }

    /**
     * One Adam step, in place on each row r of x viewed as {@code [rows, cols]}, on the objective
     * {@code ‖x − x0‖₂ + weights[r]·f(x)} given {@code grad = ∇f} (the targeted L2 attack's step),
     * then the clip to [lo, hi]: in float64, {@code g = weights[r]·grad + (x − x0)/‖x − x0‖} (0 at
     * x = x0), {@code m ← β1·m + (1 − β1)·g} and {@code v ← β2·v + (1 − β2)·g²} stored as float,
     * {@code x ← x − lr·(m/c1)/(√(v/c2) + ε)} with {@code c1 = 1 − β1^step}, {@code c2 = 1 − β2^step}.
     * The moments m and v start at 0 at step 1.
     */
    public final void l2AdamStep(Tensor x, Tensor grad, Tensor x0, Tensor m, Tensor v, int rows, int cols, double[] weights,
                                 float lr, double beta1, double beta2, double epsilon, int step, float lo, float hi) {
        try (BackendCall c = call("l2AdamStep", k.fused()).on("x", x).on("grad", grad).on("x0", x0).on("m", m).on("v", v)
                .rowsCols(x, rows, cols).sameNumel(x, "x", grad, "grad").sameNumel(x, "x", x0, "x0").sameNumel(x, "x", m, "m")
                .sameNumel(x, "x", v, "v").fitsArray("weights", weights.length, rows)) {
            k.fused().l2AdamStep(x, grad, x0, m, v, rows, cols, weights, lr, beta1, beta2, epsilon, step, lo, hi);
        }
    }

    /**
     * SGD with momentum and weight decay as PyTorch defines it, in place:
     * {@code g ← grad + wd·p; buf ← momentum·buf + (1 − dampening)·g;
     * p ← p − lr·(nesterov ? g + momentum·buf : buf)}; with momentum 0 the buffer may be null.
     */
    public final void sgdUpdate(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum, float dampening,
                                float weightDecay, boolean nesterov) {
        try (BackendCall c = call("sgdUpdate", k.fused()).on("param", param).on("grad", grad)) {
            if (momentum == 0f) c.optional("momentum buffer", momentumBuffer);
            else c.on("momentum buffer", momentumBuffer);
            c.sameNumel(param, "param", grad, "grad").numel("momentum buffer", momentumBuffer, param.numel());
            k.fused().sgdUpdate(param, grad, momentumBuffer, lr, momentum, dampening, weightDecay, nesterov);
        }
    }
}
