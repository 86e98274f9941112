package dev.advinterp.engine.backend.cuda;

import dev.advinterp.engine.backend.cuda.KernelArgs.Kind;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.advinterp.engine.backend.cuda.KernelArgs.Kind.FLOAT;
import static dev.advinterp.engine.backend.cuda.KernelArgs.Kind.INT;
import static dev.advinterp.engine.backend.cuda.KernelArgs.Kind.LONG;
import static dev.advinterp.engine.backend.cuda.KernelArgs.Kind.POINTER;

/**
 * Typed launches of the project's own CUDA kernels (kernels/src/main/cuda), one method per kernel,
 * with the parameter order, C types and launch shapes of the kernel table in the CUDA backend
 * contract. Elementwise kernels loop grid-stride, so they get 256 threads and
 * min(⌈n/256⌉, 4096) blocks; the reductions whose result order depends on the grid get exactly the
 * grid they were written for. Device pointers are plain addresses; 0 is NULL.
 *
 * <p>The launches go through a {@link Launcher}, the driver on a GPU, so that the argument lists
 * and grids can be checked on a machine without one.
 */
final class CudaKernels {
    static final int BLOCK = 256;
    static final int MAX_BLOCKS = 4096;
    /** sum_partials_f32 and feature_matching_f32 write one partial per block of exactly this grid. */
    static final int REDUCTION_BLOCKS = 256;

    /** Runs one kernel by name on a 1-D grid. */
    interface Launcher {
        void launch(String kernel, int grid, int block, KernelArgs args);
    }

    /** Each kernel's parameters in order, as the contract's table gives them. */
    static final Map<String, Kind[]> SIGNATURES = signatures();

    private static Map<String, Kind[]> signatures() {
        Map<String, Kind[]> m = new LinkedHashMap<>();
        m.put("fill_f32", new Kind[]{POINTER, FLOAT, LONG});
        m.put("axpby_f32", new Kind[]{FLOAT, POINTER, FLOAT, POINTER, POINTER, LONG});
        m.put("scale_f32", new Kind[]{POINTER, FLOAT, POINTER, LONG});
        m.put("add_bias_f32", new Kind[]{POINTER, POINTER, INT, INT, LONG});
        m.put("channel_affine_f32", new Kind[]{POINTER, POINTER, POINTER, POINTER, INT, INT, LONG});
        m.put("relu_forward_f32", new Kind[]{POINTER, POINTER, LONG});
        m.put("relu_backward_f32", new Kind[]{POINTER, POINTER, POINTER, LONG});
        m.put("dropout_forward_f32", new Kind[]{POINTER, POINTER, FLOAT, LONG, LONG});
        m.put("dropout_backward_f32", new Kind[]{POINTER, POINTER, FLOAT, LONG, LONG});
        m.put("sum_partials_f32", new Kind[]{POINTER, POINTER, LONG});
        m.put("sum_finish_f64", new Kind[]{POINTER, INT, POINTER});
        m.put("sum_bias_f32", new Kind[]{POINTER, POINTER, INT, INT, INT});
        m.put("adaptive_avg_pool_forward_f32", new Kind[]{POINTER, POINTER, INT, INT, INT, INT, INT});
        m.put("adaptive_avg_pool_backward_f32", new Kind[]{POINTER, POINTER, INT, INT, INT, INT, INT});
        m.put("bn_inference_backward_data_f32", new Kind[]{POINTER, POINTER, POINTER, FLOAT, POINTER, INT, INT, LONG});
        m.put("bn_inference_backward_params_f32",
                new Kind[]{POINTER, POINTER, POINTER, POINTER, FLOAT, POINTER, POINTER, INT, INT, INT});
        m.put("fgsm_step_f32", new Kind[]{POINTER, POINTER, POINTER, POINTER, POINTER, FLOAT, FLOAT, INT, INT, INT, LONG});
        m.put("feature_matching_f32", new Kind[]{POINTER, POINTER, POINTER, POINTER, POINTER, FLOAT, LONG});
        m.put("softmax_xent_f32", new Kind[]{POINTER, POINTER, POINTER, POINTER, INT, INT, FLOAT});
        m.put("sgd_momentum_f32", new Kind[]{POINTER, POINTER, POINTER, FLOAT, FLOAT, FLOAT, FLOAT, INT, LONG});
        m.put("argmax_rows_f32", new Kind[]{POINTER, POINTER, INT, INT});
        return Map.copyOf(m);
    }

    private final Launcher launcher;
    private final KernelArgs args = new KernelArgs();

    CudaKernels(Launcher launcher) {
        this.launcher = launcher;
    }

    /** Blocks for a grid-stride loop over n items: ⌈n/256⌉ capped at 4096, at least 1. */
    static int elementwiseGrid(long n) {
        return (int) Math.max(1, Math.min((n + BLOCK - 1) / BLOCK, MAX_BLOCKS));
    }

    private void run(String kernel, int grid) {
        Kind[] want = SIGNATURES.get(kernel);
        if (want == null || !Arrays.equals(want, args.signature())) {
            // a programming error in this file, caught before the driver would read garbage
            throw new IllegalStateException("kernel " + kernel + " launched with " + Arrays.toString(args.signature())
                    + " but declared " + Arrays.toString(want));
        }
        launcher.launch(kernel, grid, BLOCK, args);
    }

    private void elementwise(String kernel, long n) {
        if (n > 0) run(kernel, elementwiseGrid(n));
    }

    void fill(long x, float v, long n) {
        args.reset().ptr(x).f32(v).i64(n);
        elementwise("fill_f32", n);
    }

    void axpby(float a, long x, float b, long y, long out, long n) {
        args.reset().f32(a).ptr(x).f32(b).ptr(y).ptr(out).i64(n);
        elementwise("axpby_f32", n);
    }

    void scale(long x, float a, long out, long n) {
        args.reset().ptr(x).f32(a).ptr(out).i64(n);
        elementwise("scale_f32", n);
    }

    void addBias(long y, long bias, int channels, int inner, long n) {
        args.reset().ptr(y).ptr(bias).i32(channels).i32(inner).i64(n);
        elementwise("add_bias_f32", n);
    }

    void channelAffine(long x, long scale, long shift, long y, int channels, int inner, long n) {
        args.reset().ptr(x).ptr(scale).ptr(shift).ptr(y).i32(channels).i32(inner).i64(n);
        elementwise("channel_affine_f32", n);
    }

    void reluForward(long x, long y, long n) {
        args.reset().ptr(x).ptr(y).i64(n);
        elementwise("relu_forward_f32", n);
    }

    void reluBackward(long y, long dy, long dx, long n) {
        args.reset().ptr(y).ptr(dy).ptr(dx).i64(n);
        elementwise("relu_backward_f32", n);
    }

    /** The seed travels as the bits of an unsigned long long, exactly as DropoutMask.keep mixes them. */
    void dropoutForward(long x, long y, float p, long seed, long n) {
        args.reset().ptr(x).ptr(y).f32(p).i64(seed).i64(n);
        elementwise("dropout_forward_f32", n);
    }

    void dropoutBackward(long dy, long dx, float p, long seed, long n) {
        args.reset().ptr(dy).ptr(dx).f32(p).i64(seed).i64(n);
        elementwise("dropout_backward_f32", n);
    }

    /** partials[0..255] = block sums of x in a fixed order. */
    void sumPartials(long x, long partials, long n) {
        args.reset().ptr(x).ptr(partials).i64(n);
        run("sum_partials_f32", REDUCTION_BLOCKS);
    }

    /** out[0] = Σ partials[0..count) in a fixed order (one block). */
    void sumFinish(long partials, int count, long out) {
        args.reset().ptr(partials).i32(count).ptr(out);
        run("sum_finish_f64", 1);
    }

    void sumBias(long dy, long dbias, int outer, int channels, int inner) {
        args.reset().ptr(dy).ptr(dbias).i32(outer).i32(channels).i32(inner);
        run("sum_bias_f32", channels);
    }

    void adaptiveAvgPoolForward(long x, long y, int planes, int h, int w, int oh, int ow) {
        args.reset().ptr(x).ptr(y).i32(planes).i32(h).i32(w).i32(oh).i32(ow);
        elementwise("adaptive_avg_pool_forward_f32", (long) planes * oh * ow);
    }

    void adaptiveAvgPoolBackward(long dy, long dx, int planes, int h, int w, int oh, int ow) {
        args.reset().ptr(dy).ptr(dx).i32(planes).i32(h).i32(w).i32(oh).i32(ow);
        elementwise("adaptive_avg_pool_backward_f32", (long) planes * h * w);
    }

    void bnInferenceBackwardData(long dy, long gamma, long runVar, float eps, long dx, int channels, int inner, long n) {
        args.reset().ptr(dy).ptr(gamma).ptr(runVar).f32(eps).ptr(dx).i32(channels).i32(inner).i64(n);
        elementwise("bn_inference_backward_data_f32", n);
    }

    void bnInferenceBackwardParams(long x, long dy, long runMean, long runVar, float eps, long dgamma, long dbeta,
                                   int outer, int channels, int inner) {
        args.reset().ptr(x).ptr(dy).ptr(runMean).ptr(runVar).f32(eps).ptr(dgamma).ptr(dbeta).i32(outer).i32(channels)
                .i32(inner);
        run("bn_inference_backward_params_f32", channels);
    }

    /** Moves float4 per thread, so a quarter of the elementwise grid. */
    void fgsmStep(long x, long grad, long x0, long lo, long hi, float alpha, float eps, int channels, int inner,
                  boolean perChannel, long n) {
        args.reset().ptr(x).ptr(grad).ptr(x0).ptr(lo).ptr(hi).f32(alpha).f32(eps).i32(channels).i32(inner)
                .i32(perChannel ? 1 : 0).i64(n);
        if (n > 0) run("fgsm_step_f32", elementwiseGrid((n + 3) / 4));
    }

    void featureMatching(long a, long b, long gradA, long gradB, long partials, float gradScale, long n) {
        args.reset().ptr(a).ptr(b).ptr(gradA).ptr(gradB).ptr(partials).f32(gradScale).i64(n);
        run("feature_matching_f32", REDUCTION_BLOCKS);
    }

    /** gradScale already includes 1/rows. */
    void softmaxCrossEntropy(long logits, long labels, long grad, long rowLoss, int rows, int cols, float gradScale) {
        args.reset().ptr(logits).ptr(labels).ptr(grad).ptr(rowLoss).i32(rows).i32(cols).f32(gradScale);
        run("softmax_xent_f32", rows);
    }

    void sgdMomentum(long p, long g, long buf, float lr, float momentum, float dampening, float weightDecay,
                     boolean nesterov, long n) {
        args.reset().ptr(p).ptr(g).ptr(buf).f32(lr).f32(momentum).f32(dampening).f32(weightDecay).i32(nesterov ? 1 : 0)
                .i64(n);
        elementwise("sgd_momentum_f32", n);
    }

    void argmaxRows(long x, long out, int rows, int cols) {
        args.reset().ptr(x).ptr(out).i32(rows).i32(cols);
        run("argmax_rows_f32", rows);
    }
}
