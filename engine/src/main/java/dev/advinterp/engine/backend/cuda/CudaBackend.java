package dev.advinterp.engine.backend.cuda;

import dev.advinterp.engine.Device;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.Backend;
import dev.advinterp.engine.backend.ConvGeometry;
import dev.advinterp.engine.backend.PoolGeometry;

import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * The CUDA backend (being written: this first version only states the API; {@link #open(int)}
 * reports CUDA as unavailable until the bindings land).
 */
public final class CudaBackend implements Backend, AutoCloseable {

    private CudaBackend() {
    }

    /** Opens GPU {@code ordinal} (primary context, one stream, cuBLAS and cuDNN handles, kernels loaded). */
    public static CudaBackend open(int ordinal) throws CudaUnavailableException {
        throw new CudaUnavailableException(unavailableReason().orElse("the CUDA backend is not finished yet"));
    }

    /** Why CUDA cannot be used here, or empty when {@code open(0)} would work; never throws. Cached. */
    public static Optional<String> unavailableReason() {
        CudaLibraries.Found driver = CudaLibraries.entry(CudaLibraries.discover(), CudaLibraries.DRIVER);
        if (!driver.present()) {
            return Optional.of("no CUDA driver: libcuda.so.1 not found in " + driver.searched());
        }
        return Optional.of("the CUDA backend is not finished yet");
    }

    /** Waits until all work queued on the backend's stream is done. */
    public void synchronize() {
        throw notYet("synchronize");
    }

    @Override
    public void close() {
    }

    private static UnsupportedOperationException notYet(String op) {
        return new UnsupportedOperationException("CudaBackend." + op + " is not written yet");
    }

    @Override
    public Device device() {
        return Device.CUDA;
    }

    @Override
    public String describe() {
        return "CUDA (not finished)";
    }

    @Override
    public MemorySegment allocate(long bytes) {
        throw notYet("allocate");
    }

    @Override
    public void free(MemorySegment segment) {
        throw notYet("free");
    }

    @Override
    public void copyFromHost(float[] src, int srcOffset, Tensor dst) {
        throw notYet("copyFromHost");
    }

    @Override
    public void copyToHost(Tensor src, float[] dst, int dstOffset) {
        throw notYet("copyToHost");
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        throw notYet("copy");
    }

    @Override
    public void fill(Tensor t, float value) {
        throw notYet("fill");
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, long aOffset, int lda, Tensor b, long bOffset, int ldb, float beta, Tensor c, long cOffset, int ldc) {
        throw notYet("gemm");
    }

    @Override
    public void addBias(Tensor y, Tensor bias, int outer, int channels, int inner) {
        throw notYet("addBias");
    }

    @Override
    public void channelAffine(Tensor x, Tensor scale, Tensor shift, int outer, int channels, int inner, Tensor y) {
        throw notYet("channelAffine");
    }

    @Override
    public void sumBias(Tensor dy, int outer, int channels, int inner, Tensor dbias) {
        throw notYet("sumBias");
    }

    @Override
    public void conv2dForward(Tensor x, Tensor w, Tensor bias, ConvGeometry g, Tensor y) {
        throw notYet("conv2dForward");
    }

    @Override
    public void conv2dBackwardData(Tensor dy, Tensor w, ConvGeometry g, Tensor dx) {
        throw notYet("conv2dBackwardData");
    }

    @Override
    public void conv2dBackwardFilter(Tensor x, Tensor dy, ConvGeometry g, Tensor dw, Tensor dbias) {
        throw notYet("conv2dBackwardFilter");
    }

    @Override
    public void maxPool2dForward(Tensor x, PoolGeometry g, Tensor y) {
        throw notYet("maxPool2dForward");
    }

    @Override
    public void maxPool2dBackward(Tensor x, Tensor dy, PoolGeometry g, Tensor dx) {
        throw notYet("maxPool2dBackward");
    }

    @Override
    public void avgPool2dForward(Tensor x, PoolGeometry g, Tensor y) {
        throw notYet("avgPool2dForward");
    }

    @Override
    public void avgPool2dBackward(Tensor dy, PoolGeometry g, Tensor dx) {
        throw notYet("avgPool2dBackward");
    }

    @Override
    public void adaptiveAvgPool2dForward(Tensor x, Tensor y) {
        throw notYet("adaptiveAvgPool2dForward");
    }

    @Override
    public void adaptiveAvgPool2dBackward(Tensor dy, Tensor dx) {
        throw notYet("adaptiveAvgPool2dBackward");
    }

    @Override
    public void batchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, float momentum, float eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        throw notYet("batchNormTrainForward");
    }

    @Override
    public void batchNormInferenceForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, float eps, Tensor y) {
        throw notYet("batchNormInferenceForward");
    }

    @Override
    public void batchNormTrainBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dx, Tensor dgamma, Tensor dbeta) {
        throw notYet("batchNormTrainBackward");
    }

    @Override
    public void batchNormInferenceBackward(Tensor x, Tensor dy, Tensor gamma, Tensor runningMean, Tensor runningVar, float eps, Tensor dx, Tensor dgamma, Tensor dbeta) {
        throw notYet("batchNormInferenceBackward");
    }

    @Override
    public void reluForward(Tensor x, Tensor y) {
        throw notYet("reluForward");
    }

    @Override
    public void reluBackward(Tensor y, Tensor dy, Tensor dx) {
        throw notYet("reluBackward");
    }

    @Override
    public void dropoutForward(Tensor x, float p, long seed, Tensor y) {
        throw notYet("dropoutForward");
    }

    @Override
    public void dropoutBackward(Tensor dy, float p, long seed, Tensor dx) {
        throw notYet("dropoutBackward");
    }

    @Override
    public void axpby(float a, Tensor x, float b, Tensor y, Tensor out) {
        throw notYet("axpby");
    }

    @Override
    public void scale(Tensor x, float a, Tensor out) {
        throw notYet("scale");
    }

    @Override
    public double sum(Tensor x) {
        throw notYet("sum");
    }

    @Override
    public void argmax(Tensor x, int rows, int cols, int[] out) {
        throw notYet("argmax");
    }

    @Override
    public void topk(Tensor x, int rows, int cols, int k, int[] indices, float[] values) {
        throw notYet("topk");
    }

    @Override
    public double softmaxCrossEntropy(Tensor logits, int rows, int cols, int[] labels, Tensor grad, float gradScale, float[] rowLosses) {
        throw notYet("softmaxCrossEntropy");
    }

    @Override
    public double featureMatching(Tensor a, Tensor b, Tensor gradA, Tensor gradB) {
        throw notYet("featureMatching");
    }

    @Override
    public void fgsmStep(Tensor x, Tensor grad, Tensor x0, float alpha, float eps, float[] lo, float[] hi) {
        throw notYet("fgsmStep");
    }

    @Override
    public void sgdUpdate(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum, float dampening, float weightDecay, boolean nesterov) {
        throw notYet("sgdUpdate");
    }
}
