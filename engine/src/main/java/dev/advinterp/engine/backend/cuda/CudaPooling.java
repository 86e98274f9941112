package dev.advinterp.engine.backend.cuda;

import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.PoolGeometry;
import dev.advinterp.engine.backend.PoolingKernels;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.advinterp.engine.backend.cuda.CudaDevice.ptr;
import static dev.advinterp.engine.backend.cuda.Kernel.i32;

/**
 * Pooling on the GPU: max and average pooling through cuDNN ({@code CUDNN_POOLING_MAX_DETERMINISTIC},
 * {@code CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING}, NaN propagated), descriptors cached per
 * geometry and mode; adaptive average pooling through the project's kernels.
 */
final class CudaPooling implements PoolingKernels {
    static final Kernel ADAPTIVE_AVG_POOL_FORWARD = Kernel.of("adaptive_avg_pool_forward_f32", "pooling.cu", new Grid.GridStride(1),
            false, "PyTorch's adaptive average pooling, one thread per output", "≈8", Kernel.ptr("x"), Kernel.ptr("y"), i32("planes"),
            i32("h"), i32("w"), i32("oh"), i32("ow"));
    static final Kernel ADAPTIVE_AVG_POOL_BACKWARD = Kernel.of("adaptive_avg_pool_backward_f32", "pooling.cu",
            new Grid.GridStride(1), false, "its gradient as a gather, one thread per input (no atomics; overwrites dx)", "≈8",
            Kernel.ptr("dy"), Kernel.ptr("dx"), i32("planes"), i32("h"), i32("w"), i32("oh"), i32("ow"));

    static final List<Kernel> KERNELS = List.of(ADAPTIVE_AVG_POOL_FORWARD, ADAPTIVE_AVG_POOL_BACKWARD);

    private final CudaDevice device;
    private final Map<PoolKey, PoolPlan> plans = new HashMap<>();

    CudaPooling(CudaDevice device) {
        this.device = device;
    }

    private record PoolKey(PoolGeometry g, int mode) {
    }

    static final class PoolPlan {
        final MemorySegment x, y, pool;

        PoolPlan(Cudnn dnn, PoolGeometry g, int mode) {
            x = dnn.tensor4d(g.n(), g.c(), g.h(), g.w());
            y = dnn.tensor4d(g.n(), g.c(), g.outH(), g.outW());
            pool = dnn.pooling2d(mode, g.kh(), g.kw(), g.padH(), g.padW(), g.strideH(), g.strideW());
        }

        void destroy(Cudnn dnn) {
            dnn.destroyTensor(x);
            dnn.destroyTensor(y);
            dnn.destroyPooling(pool);
        }
    }

    private PoolPlan plan(PoolGeometry g, int mode) {
        Cudnn dnn = device.dnn("pooling");
        return plans.computeIfAbsent(new PoolKey(g, mode), k -> new PoolPlan(dnn, g, mode));
    }

    @Override
    public void maxForward(Tensor x, PoolGeometry g, Tensor y) {
        PoolPlan p = plan(g, Cudnn.CUDNN_POOLING_MAX_DETERMINISTIC);
        device.dnn("pooling").poolingForward(p.pool, p.x, ptr(x), p.y, ptr(y));
    }

    @Override
    public void maxBackward(Tensor x, Tensor y, Tensor dy, PoolGeometry g, Tensor dx) {
        PoolPlan p = plan(g, Cudnn.CUDNN_POOLING_MAX_DETERMINISTIC);
        device.dnn("pooling").poolingBackward(p.pool, p.y, ptr(y), ptr(dy), p.x, ptr(x), ptr(dx));
    }

    @Override
    public void avgForward(Tensor x, PoolGeometry g, Tensor y) {
        PoolPlan p = plan(g, Cudnn.CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING);
        device.dnn("pooling").poolingForward(p.pool, p.x, ptr(x), p.y, ptr(y));
    }

    @Override
    public void avgBackward(Tensor x, Tensor y, Tensor dy, PoolGeometry g, Tensor dx) {
        PoolPlan p = plan(g, Cudnn.CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING);
        device.dnn("pooling").poolingBackward(p.pool, p.y, ptr(y), ptr(dy), p.x, ptr(x), ptr(dx));
    }

    @Override
    public void adaptiveAvgForward(Tensor x, Tensor y) {
        int planes = x.dim(0) * x.dim(1), oh = y.dim(2), ow = y.dim(3);
        KernelLauncher k = device.kernels();
        k.launch(ADAPTIVE_AVG_POOL_FORWARD, (long) planes * oh * ow, k.args().ptr(x).ptr(y).i32(planes).i32(x.dim(2)).i32(x.dim(3))
                .i32(oh).i32(ow));
    }

    @Override
    public void adaptiveAvgBackward(Tensor dy, Tensor dx) {
        int planes = dx.dim(0) * dx.dim(1), h = dx.dim(2), w = dx.dim(3);
        KernelLauncher k = device.kernels();
        k.launch(ADAPTIVE_AVG_POOL_BACKWARD, (long) planes * h * w, k.args().ptr(dy).ptr(dx).i32(planes).i32(h).i32(w).i32(dy.dim(2))
                .i32(dy.dim(3)));
    }

    /** The descriptors go back to cuDNN (at close, before its handle). */
    void destroyPlans() {
        Cudnn dnn = plans.isEmpty() ? null : device.dnn("pooling");
        for (PoolPlan p : plans.values()) p.destroy(dnn);
        plans.clear();
    }
}
