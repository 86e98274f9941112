package dev.advinterp.engine.backend.cuda;

import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.BatchNormKernels;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.advinterp.engine.backend.cuda.CudaDevice.ptr;
import static dev.advinterp.engine.backend.cuda.Kernel.f32;
import static dev.advinterp.engine.backend.cuda.Kernel.i32;
import static dev.advinterp.engine.backend.cuda.Kernel.i64;

/**
 * Batch normalisation on the GPU: training forward and backward and inference forward through
 * cuDNN ({@code CUDNN_BATCHNORM_SPATIAL}, descriptors cached per shape), inference backward through
 * the project's kernels.
 */
final class CudaBatchNorm implements BatchNormKernels {
    static final Kernel INFERENCE_BACKWARD_DATA = Kernel.of("bn_inference_backward_data_f32", "batchnorm.cu", new Grid.GridStride(1),
            true, "dx = dy·γ/√(running var + ε)", "8", Kernel.ptr("dy"), Kernel.ptr("gamma"), Kernel.ptr("runningVar"), f32("eps"),
            Kernel.ptr("dx"), i32("channels"), i32("inner"), i64("n"));
    static final Kernel INFERENCE_BACKWARD_PARAMS = Kernel.of("bn_inference_backward_params_f32", "batchnorm.cu",
            new Grid.BlockPer("channels"), true, "dγ = Σ dy·(x − μ)/σ, dβ = Σ dy, one block per channel", "8", Kernel.ptr("x"),
            Kernel.ptr("dy"), Kernel.ptr("runningMean"), Kernel.ptr("runningVar"), f32("eps"), Kernel.ptr("dgamma"), Kernel.ptr("dbeta"),
            i32("outer"), i32("channels"), i32("inner"));

    static final List<Kernel> KERNELS = List.of(INFERENCE_BACKWARD_DATA, INFERENCE_BACKWARD_PARAMS);

    private final CudaDevice device;
    private final Map<BnKey, BnPlan> plans = new HashMap<>();

    CudaBatchNorm(CudaDevice device) {
        this.device = device;
    }

    record BnKey(int n, int c, int inner) {
    }

    /** x viewed as n×c×inner×1 (spatial normalisation averages over n and inner alike) and the 1×c×1×1 parameters. */
    static final class BnPlan {
        final MemorySegment x, params;

        BnPlan(Cudnn dnn, BnKey k) {
            x = dnn.tensor4d(k.n(), k.c(), k.inner(), 1);
            params = dnn.tensor4d(1, k.c(), 1, 1);
        }

        void destroy(Cudnn dnn) {
            dnn.destroyTensor(x);
            dnn.destroyTensor(params);
        }
    }

    private BnPlan plan(Tensor x) {
        BnKey k = new BnKey(x.dim(0), x.dim(1), Math.toIntExact(x.shape().sizeFrom(2)));
        Cudnn dnn = device.dnn("batch normalisation");
        return plans.computeIfAbsent(k, key -> new BnPlan(dnn, key));
    }

    @Override
    public void trainForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, float momentum, float eps,
                             Tensor y, Tensor saveMean, Tensor saveInvStd) {
        BnPlan p = plan(x);
        device.dnn("batch normalisation").batchNormForwardTraining(p.x, ptr(x), ptr(y), p.params, ptr(gamma), ptr(beta), momentum,
                ptr(runningMean), ptr(runningVar), eps, ptr(saveMean), ptr(saveInvStd));
    }

    @Override
    public void inferenceForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, float eps, Tensor y) {
        BnPlan p = plan(x);
        device.dnn("batch normalisation").batchNormForwardInference(p.x, ptr(x), ptr(y), p.params, ptr(gamma), ptr(beta),
                ptr(runningMean), ptr(runningVar), eps);
    }

    /** cuDNN recomputes nothing when given the saved mean and 1/σ; its signature still takes the forward's ε. */
    @Override
    public void trainBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, float eps, Tensor dx,
                              Tensor dgamma, Tensor dbeta) {
        BnPlan p = plan(x);
        device.dnn("batch normalisation").batchNormBackward(p.x, ptr(x), ptr(dy), ptr(dx), p.params, ptr(gamma), ptr(dgamma), ptr(dbeta),
                eps, ptr(saveMean), ptr(saveInvStd));
    }

    @Override
    public void inferenceBackward(Tensor x, Tensor dy, Tensor gamma, Tensor runningMean, Tensor runningVar, float eps, Tensor dx,
                                  Tensor dgamma, Tensor dbeta) {
        int channels = x.dim(1), inner = Math.toIntExact(x.shape().sizeFrom(2));
        KernelLauncher k = device.kernels();
        k.launch(INFERENCE_BACKWARD_DATA, x.numel(), k.args().ptr(dy).ptr(gamma).ptr(runningVar).f32(eps).ptr(dx).i32(channels)
                .i32(inner).i64(x.numel()));
        if (dgamma != null || dbeta != null) {
            k.launch(INFERENCE_BACKWARD_PARAMS, k.args().ptr(x).ptr(dy).ptr(runningMean).ptr(runningVar).f32(eps).ptr(dgamma).ptr(dbeta)
                    .i32(x.dim(0)).i32(channels).i32(inner));
        }
    }

    /** The descriptors go back to cuDNN (at close, before its handle). */
    void destroyPlans() {
        Cudnn dnn = plans.isEmpty() ? null : device.dnn("batch normalisation");
        for (BnPlan p : plans.values()) p.destroy(dnn);
        plans.clear();
    }
}
