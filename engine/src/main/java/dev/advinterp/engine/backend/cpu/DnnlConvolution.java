package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.ChannelsLast;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.ConvGeometry;
import dev.advinterp.engine.backend.ConvolutionKernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import static java.lang.foreign.ValueLayout.ADDRESS;

/**
 * Convolution forward, backward-data and backward-weights on oneDNN. The engine's tensors stay
 * in its layout (NCHW activations, OIHW weights, plain bias); oneDNN chooses the layout its
 * fastest kernel wants ({@code format_tag_any}), and {@link DnnlPlan} reorders where that differs
 * (with plain layouts forced, backward-weights falls to oneDNN's reference kernel, hundreds of
 * times slower). A plan is created once per (pass, geometry, bias) and cached for the life of the
 * process; a call sets the data handles and runs it.
 *
 * <p>Where {@code channelsLast} ({@link ChannelsLast.Mode}) says so, the outputs are left NHWC
 * ({@link CpuChannelsLast}), and a pass whose input or output is NHWC computes in NHWC: the
 * primitives are asked for NHWC (oneDNN's brgemm kernels; each pass of ResNet-18's 3×3 layers,
 * timed alone, as fast as the blocked kernels oneDNN picks by itself with their reorders, or
 * faster); an input already in it is read as it is, an NCHW one reordered into it by the plan.
 */
final class DnnlConvolution implements ConvolutionKernels {
    private final Dnnl dnnl;
    /** Where oneDNN is not used: see {@link #oneDnnServes} and {@link #oneDnnServesBackwardData}. */
    private final ConvolutionKernels fallback;
    private final Map<Key, DnnlPlan> cache = new HashMap<>();

    private enum Pass { FORWARD, BACKWARD_DATA, BACKWARD_WEIGHTS }

    /** A plan's pass, geometry and bias, and whether its src-side and dst-side activations are stored NHWC. */
    private record Key(Pass pass, ConvGeometry g, boolean bias, boolean srcNhwc, boolean dstNhwc) {
    }

    /** Where the outputs are left channels-last. */
    private final ChannelsLast.Mode channelsLast;

    DnnlConvolution(Dnnl dnnl, ConvolutionKernels fallback, ChannelsLast.Mode channelsLast) {
        this.dnnl = dnnl;
        this.fallback = fallback;
        this.channelsLast = channelsLast;
    }

    /**
     * oneDNN 3.8.1 computes a wrong forward for a single-channel input whose output is one
     * position wide (or high) with a stride above 1 on that axis (found by the random-geometry
     * tests: 1×5×5 input, 3×5 kernel, stride 1,2); such degenerate geometries go to the im2col path.
     */
    static boolean oneDnnServes(ConvGeometry g) {
        return !((g.outW() == 1 && g.strideW() > 1) || (g.outH() == 1 && g.strideH() > 1));
    }

    /**
     * Input channels up to which the backward-data pass goes to the im2col path: a model's first
     * layer, whose backward-data is the image's gradient (the attacks, the consistent loss's FGSM
     * step). oneDNN 3.8.1 takes the same time there for 1 to 16 input channels (51 ms for
     * ResNet-18's 7×7 stem at 224 px, batch 8, on a 2-core AVX-512 machine), where the GEMM and
     * col2im grow with them: 0.31–0.52 of oneDNN's time on the first layer (3 channels) of every
     * benchmarked model, with OpenBLAS's AVX-512 kernels and its Haswell ones; on two of those
     * shapes given 1 to 16 channels, 0.19–0.55 at 1 to 4, 0.86–1.09 at 8, 2× at 16 (bench/README.md,
     * "The image's gradient").
     */
    static final int IM2COL_BACKWARD_DATA_CHANNELS = 4;

    /** Whether oneDNN runs this geometry's backward-data pass: see {@link #IM2COL_BACKWARD_DATA_CHANNELS}. */
    static boolean oneDnnServesBackwardData(ConvGeometry g) {
        return oneDnnServes(g) && g.cIn() > IM2COL_BACKWARD_DATA_CHANNELS;
    }

    @Override
    public void forward(Tensor x, Tensor w, Tensor bias, ConvGeometry g, Tensor y) {
        if (!oneDnnServes(g)) {
            fallback.forward(x, w, bias, g, y);
            return;
        }
        boolean xNhwc = ChannelsLast.of(x) != null, yNhwc = channelsLast.forwardOutput();
        run(new Key(Pass.FORWARD, g, bias != null, xNhwc, yNhwc), CpuChannelsLast.bytes(x, xNhwc), w.segment(), bias == null ? null : bias.segment(),
                CpuChannelsLast.bytes(y, yNhwc));
        if (yNhwc) y.storeAs(CpuChannelsLast.layout(g.n(), g.cOut(), g.outH(), g.outW()));
    }

    @Override
    public void backwardData(Tensor dy, Tensor w, ConvGeometry g, Tensor dx) {
        if (!oneDnnServesBackwardData(g)) {
            fallback.backwardData(dy, w, g, dx);
            return;
        }
        oneDnnBackwardData(dy, w, g, dx);
    }

    /** The backward-data pass on oneDNN whatever the input's channels (the comparison in bench/ times it against the im2col path). */
    void oneDnnBackwardData(Tensor dy, Tensor w, ConvGeometry g, Tensor dx) {
        boolean dyNhwc = ChannelsLast.of(dy) != null, dxNhwc = channelsLast.backwardOutput();
        run(new Key(Pass.BACKWARD_DATA, g, false, dxNhwc, dyNhwc), CpuChannelsLast.bytes(dx, dxNhwc), w.segment(), CpuChannelsLast.bytes(dy, dyNhwc));
        if (dxNhwc) dx.storeAs(CpuChannelsLast.layout(g.n(), g.cIn(), g.h(), g.w()));
    }

    @Override
    public void backwardFilter(Tensor x, Tensor dy, ConvGeometry g, Tensor dw, Tensor dbias) {
        if (!oneDnnServes(g)) {
            fallback.backwardFilter(x, dy, g, dw, dbias);
            return;
        }
        boolean xNhwc = ChannelsLast.of(x) != null, dyNhwc = ChannelsLast.of(dy) != null;
        run(new Key(Pass.BACKWARD_WEIGHTS, g, dbias != null, xNhwc, dyNhwc), CpuChannelsLast.bytes(x, xNhwc), dw.segment(),
                dbias == null ? null : dbias.segment(), CpuChannelsLast.bytes(dy, dyNhwc));
    }

    /** The workspace bytes of the largest plan created so far: what the shared slot grows to. */
    synchronized long largestPlanBytes() {
        return cache.values().stream().mapToLong(DnnlPlan::bytes).max().orElse(0);
    }

    /** Runs the key's plan on the buffers, given in the order of its arguments (a null bias is skipped). */
    private synchronized void run(Key key, MemorySegment... buffers) {
        cache.computeIfAbsent(key, this::create).run(Arrays.stream(buffers).filter(Objects::nonNull).toArray(MemorySegment[]::new));
    }

    private DnnlPlan create(Key key) {
        ConvGeometry g = key.g();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment src = DnnlPlan.desc(dnnl, a, key.srcNhwc() ? Dnnl.TAG_ACDB : Dnnl.TAG_ABCD, g.n(), g.cIn(), g.h(), g.w());
            MemorySegment weights = DnnlPlan.desc(dnnl, a, Dnnl.TAG_ABCD, g.cOut(), g.cIn(), g.kh(), g.kw());
            MemorySegment bias = key.bias() ? DnnlPlan.desc(dnnl, a, Dnnl.TAG_A, g.cOut()) : MemorySegment.NULL;
            MemorySegment dst = DnnlPlan.desc(dnnl, a, key.dstNhwc() ? Dnnl.TAG_ACDB : Dnnl.TAG_ABCD, g.n(), g.cOut(), g.outH(), g.outW());
            // computed in NHWC where either side is stored so; otherwise in the layout oneDNN prefers
            int activations = key.srcNhwc() || key.dstNhwc() ? Dnnl.TAG_ACDB : Dnnl.TAG_ANY;
            MemorySegment srcAny = DnnlPlan.desc(dnnl, a, activations, g.n(), g.cIn(), g.h(), g.w());
            MemorySegment weightsAny = DnnlPlan.desc(dnnl, a, Dnnl.TAG_ANY, g.cOut(), g.cIn(), g.kh(), g.kw());
            MemorySegment dstAny = DnnlPlan.desc(dnnl, a, activations, g.n(), g.cOut(), g.outH(), g.outW());
            MemorySegment strides = DnnlPlan.dims(a, g.strideH(), g.strideW()), dilates = DnnlPlan.dims(a, 0, 0), pad = DnnlPlan.dims(a, g.padH(), g.padW());
            MemorySegment out = a.allocate(ADDRESS);
            int prop = key.pass() == Pass.FORWARD ? Dnnl.FORWARD_INFERENCE : Dnnl.FORWARD_TRAINING;
            MemorySegment forwardBias = key.pass() == Pass.BACKWARD_DATA ? MemorySegment.NULL : bias;
            Dnnl.check((int) dnnl.convForwardPd.invokeExact(out, dnnl.engine, prop, Dnnl.CONVOLUTION_DIRECT, srcAny, weightsAny, forwardBias, dstAny,
                    strides, dilates, pad, pad, dnnl.userScratchpad), "dnnl_convolution_forward_primitive_desc_create");
            MemorySegment forward = out.get(ADDRESS, 0), pd;
            List<DnnlPlan.Arg> args = new ArrayList<>();
            switch (key.pass()) {
                case FORWARD -> {
                    pd = forward;
                    args.add(new DnnlPlan.Arg(Dnnl.ARG_SRC, src, Dnnl.QUERY_SRC_MD, false));
                    args.add(new DnnlPlan.Arg(Dnnl.ARG_WEIGHTS, weights, Dnnl.QUERY_WEIGHTS_MD, false));
                    if (key.bias()) args.add(DnnlPlan.Arg.in(Dnnl.ARG_BIAS, bias));
                    args.add(new DnnlPlan.Arg(Dnnl.ARG_DST, dst, Dnnl.QUERY_DST_MD, true));
                }
                case BACKWARD_DATA -> {
                    Dnnl.check((int) dnnl.convBackwardDataPd.invokeExact(out, dnnl.engine, Dnnl.CONVOLUTION_DIRECT, srcAny, weightsAny, dstAny, strides,
                            dilates, pad, pad, forward, dnnl.userScratchpad), "dnnl_convolution_backward_data_primitive_desc_create");
                    pd = out.get(ADDRESS, 0);
                    args.add(new DnnlPlan.Arg(Dnnl.ARG_DIFF_SRC, src, Dnnl.QUERY_DIFF_SRC_MD, true));
                    args.add(new DnnlPlan.Arg(Dnnl.ARG_WEIGHTS, weights, Dnnl.QUERY_WEIGHTS_MD, false));
                    args.add(new DnnlPlan.Arg(Dnnl.ARG_DIFF_DST, dst, Dnnl.QUERY_DIFF_DST_MD, false));
                }
                default -> {
                    Dnnl.check((int) dnnl.convBackwardWeightsPd.invokeExact(out, dnnl.engine, Dnnl.CONVOLUTION_DIRECT, srcAny, weightsAny, bias, dstAny,
                            strides, dilates, pad, pad, forward, dnnl.userScratchpad), "dnnl_convolution_backward_weights_primitive_desc_create");
                    pd = out.get(ADDRESS, 0);
                    args.add(new DnnlPlan.Arg(Dnnl.ARG_SRC, src, Dnnl.QUERY_SRC_MD, false));
                    args.add(new DnnlPlan.Arg(Dnnl.ARG_DIFF_WEIGHTS, weights, Dnnl.QUERY_DIFF_WEIGHTS_MD, true));
                    if (key.bias()) args.add(DnnlPlan.Arg.out(Dnnl.ARG_DIFF_BIAS, bias));
                    args.add(new DnnlPlan.Arg(Dnnl.ARG_DIFF_DST, dst, Dnnl.QUERY_DIFF_DST_MD, false));
                }
            }
            DnnlPlan plan = new DnnlPlan(dnnl, "convolution " + key, pd, args);
            if (pd != forward) dnnl.destroyPd(pd);
            dnnl.destroyPd(forward);
            dnnl.destroyMds(src, weights, bias, dst, srcAny, weightsAny, dstAny);
            return plan;
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("oneDNN: creating the convolution " + key + " failed", t);
        }
    }
}
