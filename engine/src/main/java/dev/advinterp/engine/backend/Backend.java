package dev.advinterp.engine.backend;

import dev.advinterp.engine.Device;
import dev.advinterp.engine.DeviceMemory;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.memory.NativeMemory;


/**
 * The primitive kernels every device implements, and the device's memory: a backend is the
 * {@link DeviceMemory} its tensors live in (a scope opened on it makes its tensors there), and
 * {@link Backends#of} finds the backend of a tensor from that memory. Arguments have been checked
 * by {@code Ops} (shapes, liveness, devices) before a call; outputs are preallocated by the caller
 * and fully written by the kernel. All tensors are float32, contiguous, row-major (NCHW).
 *
 * <p>The CPU backend is the reference implementation of every method.
 */
public interface Backend extends DeviceMemory {

    @Override
    Device device();

    /** One line: the device and the libraries behind it. */
    @Override
    String describe();

    // ------------------------------------------------------------------ memory

    void copyFromHost(float[] src, int srcOffset, Tensor dst);

    void copyToHost(Tensor src, float[] dst, int dstOffset);

    /** dst ← src, same number of elements. */
    void copy(Tensor src, Tensor dst);

    void fill(Tensor t, float value);

    /**
     * Bytes this backend's memory holds for tensors and its own buffers now (host memory for the
     * CPU, device memory for a GPU), as its allocator counts them.
     */
    default long memoryInUse() {
        return NativeMemory.currentBytes();
    }

    /** The largest {@link #memoryInUse()} since the last {@link #resetMemoryPeak()}. */
    default long memoryPeak() {
        return NativeMemory.peakBytes();
    }

    /** Starts a new peak from the current use. */
    default void resetMemoryPeak() {
        NativeMemory.resetPeak();
    }

    /** Bytes of the reusable buffers the backend keeps between calls (im2col, cuDNN workspace), included above. */
    default long workspaceBytes() {
        return 0;
    }

    // ------------------------------------------------------------------ dense algebra

    /**
     * Row-major {@code C = alpha·op(A)·op(B) + beta·C} on float offsets into the tensors' storage;
     * {@code op(A)} is m×k, {@code op(B)} is k×n.
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k,
              float alpha, Tensor a, long aOffset, int lda,
              Tensor b, long bOffset, int ldb,
              float beta, Tensor c, long cOffset, int ldc);

    /** {@code y[o, c, i] += bias[c]} for y viewed as {@code [outer, channels, inner]}. */
    void addBias(Tensor y, Tensor bias, int outer, int channels, int inner);

    /**
     * {@code y[o, c, i] = scale[c]·x[o, c, i] + shift[c]} for x viewed as {@code [outer, channels, inner]};
     * shift may be null (then 0). Per-channel input normalisation and its backward.
     */
    void channelAffine(Tensor x, Tensor scale, Tensor shift, int outer, int channels, int inner, Tensor y);

    /** {@code dbias[c] = Σ_{o,i} dy[o, c, i]} (overwrites). */
    void sumBias(Tensor dy, int outer, int channels, int inner, Tensor dbias);

    // ------------------------------------------------------------------ convolution

    /** y = conv(x, w) + bias; bias may be null. */
    void conv2dForward(Tensor x, Tensor w, Tensor bias, ConvGeometry g, Tensor y);

    /** dx = conv_transpose(dy, w) (overwrites dx). */
    void conv2dBackwardData(Tensor dy, Tensor w, ConvGeometry g, Tensor dx);

    /** dw = Σ_n dy ⋆ x (overwrites), dbias = Σ dy over n, h, w (overwrites; may be null). */
    void conv2dBackwardFilter(Tensor x, Tensor dy, ConvGeometry g, Tensor dw, Tensor dbias);

    // ------------------------------------------------------------------ pooling

    void maxPool2dForward(Tensor x, PoolGeometry g, Tensor y);

    /** dx (overwritten) gets dy at the first maximum of each window, summed where windows overlap. */
    void maxPool2dBackward(Tensor x, Tensor dy, PoolGeometry g, Tensor dx);

    void avgPool2dForward(Tensor x, PoolGeometry g, Tensor y);

    void avgPool2dBackward(Tensor dy, PoolGeometry g, Tensor dx);

    /** PyTorch's adaptive average pooling: bin i covers [floor(i·H/oh), ceil((i+1)·H/oh)). */
    void adaptiveAvgPool2dForward(Tensor x, Tensor y);

    void adaptiveAvgPool2dBackward(Tensor dy, Tensor dx);

    // ------------------------------------------------------------------ batch normalisation

    /**
     * Training mode over {@code [n, c, h, w]}: batch statistics per channel, y = γ·x̂ + β;
     * running statistics updated in place as PyTorch does (momentum, unbiased variance);
     * saveMean and saveInvStd ({@code [c]}) keep what the backward needs.
     */
    void batchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                               float momentum, float eps, Tensor y, Tensor saveMean, Tensor saveInvStd);

    /** Evaluation mode: y = γ·(x − running mean)/√(running var + ε) + β. */
    void batchNormInferenceForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                   float eps, Tensor y);

    /** Backward of the training mode (overwrites dx, dgamma, dbeta). */
    void batchNormTrainBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                Tensor dx, Tensor dgamma, Tensor dbeta);

    /** Backward of the evaluation mode (statistics are constants); dgamma and dbeta may be null. */
    void batchNormInferenceBackward(Tensor x, Tensor dy, Tensor gamma, Tensor runningMean, Tensor runningVar,
                                    float eps, Tensor dx, Tensor dgamma, Tensor dbeta);

    // ------------------------------------------------------------------ activations and elementwise

    void reluForward(Tensor x, Tensor y);

    /** dx = dy where y &gt; 0, else 0. */
    void reluBackward(Tensor y, Tensor dy, Tensor dx);

    /**
     * Inverted dropout: element i is kept when {@link DropoutMask#keep(long, long, float)} says so,
     * and kept values are scaled by 1/(1−p). The mask is a pure function of (seed, i), so the
     * backward recomputes it instead of storing it.
     */
    void dropoutForward(Tensor x, float p, long seed, Tensor y);

    void dropoutBackward(Tensor dy, float p, long seed, Tensor dx);

    /** out = a·x + b·y (out may be x or y). */
    void axpby(float a, Tensor x, float b, Tensor y, Tensor out);

    /** out = a·x (out may be x). */
    void scale(Tensor x, float a, Tensor out);

    /** Σ x in float64, in a fixed order (deterministic). */
    double sum(Tensor x);

    // ------------------------------------------------------------------ selection

    /** Index of the first maximum of each row of x viewed as {@code [rows, cols]}. */
    void argmax(Tensor x, int rows, int cols, int[] out);

    /** The k largest of each row, in descending order (ties: lower index first). */
    void topk(Tensor x, int rows, int cols, int k, int[] indices, float[] values);

    // ------------------------------------------------------------------ fused primitives

    /**
     * Mean softmax cross-entropy of logits {@code [rows, cols]} against labels, in one pass; when
     * grad is not null it receives {@code gradScale·(softmax − onehot)/rows}. Per-row losses go to
     * {@code rowLosses} when it is not null. Returns the mean loss (NaN if the logits hold a NaN).
     */
    double softmaxCrossEntropy(Tensor logits, int rows, int cols, int[] labels, Tensor grad, float gradScale,
                               float[] rowLosses);

    /**
     * Feature matching: loss = mean((a − b)²) over all elements, with gradA = 2(a − b)/N and
     * gradB = −gradA, in one pass (either gradient may be null); deterministic reduction.
     */
    double featureMatching(Tensor a, Tensor b, Tensor gradA, Tensor gradB);

    /**
     * One FGSM step in place on x {@code [n, c, h, w]} (or any rank, with channel dim 1):
     * {@code x ← clip(x + alpha·sign(g), max(x0 − eps, lo[c]), min(x0 + eps, hi[c]))}, sign(0) = 0.
     * lo and hi hold one bound per channel, or a single bound for all.
     */
    void fgsmStep(Tensor x, Tensor grad, Tensor x0, float alpha, float eps, float[] lo, float[] hi);

    /**
     * SGD with momentum and weight decay as PyTorch defines it, in place:
     * {@code g ← grad + wd·p; buf ← momentum·buf + (1 − dampening)·g;
     * p ← p − lr·(nesterov ? g + momentum·buf : buf)}; with momentum 0 the buffer may be null.
     */
    void sgdUpdate(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum, float dampening,
                   float weightDecay, boolean nesterov);
}
