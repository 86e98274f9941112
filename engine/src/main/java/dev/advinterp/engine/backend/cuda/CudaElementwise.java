package dev.advinterp.engine.backend.cuda;

import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.ElementwiseKernels;

import java.util.List;

import static dev.advinterp.engine.backend.cuda.Kernel.f32;
import static dev.advinterp.engine.backend.cuda.Kernel.i32;
import static dev.advinterp.engine.backend.cuda.Kernel.i64;
import static dev.advinterp.engine.backend.cuda.Kernel.ptr;

/**
 * Elementwise and per-channel maps on the GPU, each one launch of a kernel declared here
 * (elementwise.cu, and reductions.cu for the bias sums), which redoes the CPU's float operations
 * in the CPU's order (kernels/README.md).
 */
final class CudaElementwise implements ElementwiseKernels {
    private static final Grid EACH = new Grid.GridStride(1);

    /** Not launched by the backend (a fill is a 32-bit memset): the driver tests' kernel. */
    static final Kernel FILL = Kernel.of("fill_f32", "elementwise.cu", EACH, false, "x = v", "4",
            ptr("x"), f32("v"), i64("n"));
    static final Kernel AXPBY = Kernel.of("axpby_f32", "elementwise.cu", EACH, false,
            "out = a·x + b·y (out may alias x or y)", "12", f32("a"), ptr("x"), f32("b"), ptr("y"), ptr("out"), i64("n"));
    static final Kernel SCALE = Kernel.of("scale_f32", "elementwise.cu", EACH, false, "out = a·x", "8",
            ptr("x"), f32("a"), ptr("out"), i64("n"));
    static final Kernel ADD_BIAS = Kernel.of("add_bias_f32", "elementwise.cu", EACH, false, "y[o,c,i] += bias[c]", "8",
            ptr("y"), ptr("bias"), i32("channels"), i32("inner"), i64("n"));
    static final Kernel CHANNEL_AFFINE = Kernel.of("channel_affine_f32", "elementwise.cu", EACH, false,
            "y = scale[c]·x + shift[c] (shift NULL: 0)", "8", ptr("x"), ptr("scale"), ptr("shift"), ptr("y"), i32("channels"),
            i32("inner"), i64("n"));
    static final Kernel RELU_FORWARD = Kernel.of("relu_forward_f32", "elementwise.cu", EACH, false, "y = max(0, x)", "8",
            ptr("x"), ptr("y"), i64("n"));
    static final Kernel RELU_BACKWARD = Kernel.of("relu_backward_f32", "elementwise.cu", EACH, false, "dx = y > 0 ? dy : 0", "12",
            ptr("y"), ptr("dy"), ptr("dx"), i64("n"));
    /** The seed travels as the bits of an unsigned long long, exactly as DropoutMask.keep mixes them. */
    static final Kernel DROPOUT_FORWARD = Kernel.of("dropout_forward_f32", "elementwise.cu", EACH, false,
            "inverted dropout, mask = DropoutMask.keep(seed, i, p) recomputed", "8", ptr("x"), ptr("y"), f32("p"), i64("seed"), i64("n"));
    static final Kernel DROPOUT_BACKWARD = Kernel.of("dropout_backward_f32", "elementwise.cu", EACH, false,
            "its gradient, the same mask", "8", ptr("dy"), ptr("dx"), f32("p"), i64("seed"), i64("n"));
    static final Kernel SUM_BIAS = Kernel.of("sum_bias_f32", "reductions.cu", new Grid.BlockPer("channels"), true,
            "dbias[c] = Σ_{o,i} dy[o,c,i] in float64, a fixed tree per channel", "4", ptr("dy"), ptr("dbias"), i32("outer"),
            i32("channels"), i32("inner"));

    static final List<Kernel> KERNELS = List.of(FILL, AXPBY, SCALE, ADD_BIAS, CHANNEL_AFFINE, RELU_FORWARD, RELU_BACKWARD,
            DROPOUT_FORWARD, DROPOUT_BACKWARD, SUM_BIAS);

    private final KernelLauncher k;

    CudaElementwise(CudaDevice device) {
        this.k = device.kernels();
    }

    @Override
    public void addBias(Tensor y, Tensor bias, int outer, int channels, int inner) {
        addBias(k, y, bias, channels, inner);
    }

    /** Also the convolution's bias: y viewed as {@code [·, channels, inner]}. */
    static void addBias(KernelLauncher k, Tensor y, Tensor bias, int channels, int inner) {
        k.launch(ADD_BIAS, y.numel(), k.args().ptr(y).ptr(bias).i32(channels).i32(inner).i64(y.numel()));
    }

    @Override
    public void channelAffine(Tensor x, Tensor scale, Tensor shift, int outer, int channels, int inner, Tensor y) {
        k.launch(CHANNEL_AFFINE, x.numel(), k.args().ptr(x).ptr(scale).ptr(shift).ptr(y).i32(channels).i32(inner).i64(x.numel()));
    }

    @Override
    public void sumBias(Tensor dy, int outer, int channels, int inner, Tensor dbias) {
        sumBias(k, dy, dbias, outer, channels, inner);
    }

    /** Also the convolution's bias gradient. */
    static void sumBias(KernelLauncher k, Tensor dy, Tensor dbias, int outer, int channels, int inner) {
        k.launch(SUM_BIAS, k.args().ptr(dy).ptr(dbias).i32(outer).i32(channels).i32(inner));
    }

    @Override
    public void reluForward(Tensor x, Tensor y) {
        k.launch(RELU_FORWARD, x.numel(), k.args().ptr(x).ptr(y).i64(x.numel()));
    }

    @Override
    public void reluBackward(Tensor y, Tensor dy, Tensor dx) {
        k.launch(RELU_BACKWARD, y.numel(), k.args().ptr(y).ptr(dy).ptr(dx).i64(y.numel()));
    }

    @Override
    public void dropoutForward(Tensor x, float p, long seed, Tensor y) {
        k.launch(DROPOUT_FORWARD, x.numel(), k.args().ptr(x).ptr(y).f32(p).i64(seed).i64(x.numel()));
    }

    @Override
    public void dropoutBackward(Tensor dy, float p, long seed, Tensor dx) {
        k.launch(DROPOUT_BACKWARD, dy.numel(), k.args().ptr(dy).ptr(dx).f32(p).i64(seed).i64(dy.numel()));
    }

    @Override
    public void axpby(float a, Tensor x, float b, Tensor y, Tensor out) {
        k.launch(AXPBY, out.numel(), k.args().f32(a).ptr(x).f32(b).ptr(y).ptr(out).i64(out.numel()));
    }

    @Override
    public void scale(Tensor x, float a, Tensor out) {
        k.launch(SCALE, out.numel(), k.args().ptr(x).f32(a).ptr(out).i64(out.numel()));
    }
}
