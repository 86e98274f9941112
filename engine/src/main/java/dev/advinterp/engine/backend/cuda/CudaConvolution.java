package dev.advinterp.engine.backend.cuda;

import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.ConvGeometry;
import dev.advinterp.engine.backend.ConvolutionKernels;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

import static dev.advinterp.engine.backend.cuda.CudaDevice.ptr;

/**
 * Convolution on the GPU: cuDNN's forward, backward-data and backward-filter, with the bias added
 * and summed by the project's kernels. Descriptors and the chosen algorithms are cached per
 * geometry (no work is repeated for a shape seen before); one workspace, grown to the largest
 * need, is kept.
 */
final class CudaConvolution implements ConvolutionKernels {
    /** Largest cuDNN workspace an algorithm may ask for before a leaner one is preferred. */
    private static final long WORKSPACE_LIMIT = 1L << 30;

    private final CudaDevice device;
    private final Scratch workspace;
    private final Map<ConvGeometry, ConvPlan> plans = new HashMap<>();

    CudaConvolution(CudaDevice device) {
        this.device = device;
        this.workspace = device.scratch("cuDNN workspace");
    }

    /**
     * Descriptors of one convolution geometry and, per direction, the algorithm chosen and its
     * workspace; made on first use and kept until close.
     */
    static final class ConvPlan {
        final MemorySegment x, w, y, conv;
        /** Per {@link Cudnn.Direction} ordinal: the algorithm (-1 until chosen) and its workspace bytes. */
        final int[] algo = {-1, -1, -1};
        final long[] workspace = new long[3];

        ConvPlan(Cudnn dnn, ConvGeometry g) {
            x = dnn.tensor4d(g.n(), g.cIn(), g.h(), g.w());
            w = dnn.filter4d(g.cOut(), g.cIn(), g.kh(), g.kw());
            y = dnn.tensor4d(g.n(), g.cOut(), g.outH(), g.outW());
            conv = dnn.convolution2d(g.padH(), g.padW(), g.strideH(), g.strideW());
        }

        void destroy(Cudnn dnn) {
            dnn.destroyTensor(x);
            dnn.destroyFilter(w);
            dnn.destroyTensor(y);
            dnn.destroyConvolution(conv);
        }
    }

    /**
     * The plan of geometry g with the algorithm of direction dir chosen: cuDNN's heuristic order,
     * keeping the first that reports success within the workspace limit, and for the backward
     * directions the first deterministic one if any qualifies (so that the same inputs give the
     * same gradients). The workspace is grown to the algorithm's need.
     */
    private ConvPlan planFor(ConvGeometry g, Cudnn.Direction dir) {
        Cudnn dnn = device.dnn("convolution");
        ConvPlan p = plans.get(g);
        if (p == null) {
            p = new ConvPlan(dnn, g);
            plans.put(g, p);
        }
        int d = dir.ordinal();
        if (p.algo[d] < 0) {
            Cudnn.AlgoPerf[] ranked = dnn.rankAlgorithms(dir, p.x, p.w, p.conv, p.y);
            Cudnn.AlgoPerf pick = ConvAlgorithms.choose(ranked, dir != Cudnn.Direction.FORWARD, WORKSPACE_LIMIT);
            if (pick == null) {
                throw new CudaException(Cudnn.LIBRARY, "cudnnGetConvolution" + dir + "Algorithm_v7", -1, "no usable algorithm",
                        "none of " + ranked.length + " algorithms suits geometry " + g + ": " + Arrays.toString(ranked));
            }
            p.workspace[d] = Math.max(pick.memory(), dnn.workspaceSize(dir, p.x, p.w, p.conv, p.y, pick.algo()));
            p.algo[d] = pick.algo();
        }
        workspace.ensure(p.workspace[d]);
        return p;
    }

    @Override
    public void forward(Tensor x, Tensor w, Tensor bias, ConvGeometry g, Tensor y) {
        ConvPlan p = planFor(g, Cudnn.Direction.FORWARD);
        int d = Cudnn.Direction.FORWARD.ordinal();
        device.dnn("convolution").convolutionForward(p.x, ptr(x), p.w, ptr(w), p.conv, p.algo[d], workspace.address(), p.workspace[d],
                p.y, ptr(y));
        if (bias != null) CudaElementwise.addBias(device.kernels(), y, bias, g.cOut(), g.outH() * g.outW());
    }

    @Override
    public void backwardData(Tensor dy, Tensor w, ConvGeometry g, Tensor dx) {
        ConvPlan p = planFor(g, Cudnn.Direction.BACKWARD_DATA);
        int d = Cudnn.Direction.BACKWARD_DATA.ordinal();
        device.dnn("convolution").convolutionBackwardData(p.w, ptr(w), p.y, ptr(dy), p.conv, p.algo[d], workspace.address(),
                p.workspace[d], p.x, ptr(dx));
    }

    @Override
    public void backwardFilter(Tensor x, Tensor dy, ConvGeometry g, Tensor dw, Tensor dbias) {
        ConvPlan p = planFor(g, Cudnn.Direction.BACKWARD_FILTER);
        int d = Cudnn.Direction.BACKWARD_FILTER.ordinal();
        device.dnn("convolution").convolutionBackwardFilter(p.x, ptr(x), p.y, ptr(dy), p.conv, p.algo[d], workspace.address(),
                p.workspace[d], p.w, ptr(dw));
        if (dbias != null) CudaElementwise.sumBias(device.kernels(), dy, dbias, g.n(), g.cOut(), g.outH() * g.outW());
    }

    /** The descriptors go back to cuDNN (at close, before its handle). */
    void destroyPlans() {
        Cudnn dnn = plans.isEmpty() ? null : device.dnn("convolution");
        for (ConvPlan p : plans.values()) p.destroy(dnn);
        plans.clear();
    }
}
