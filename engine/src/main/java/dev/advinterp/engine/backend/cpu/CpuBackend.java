package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.Device;
import dev.advinterp.engine.DeviceMemory;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.Backend;
import dev.advinterp.engine.backend.ConvGeometry;
import dev.advinterp.engine.backend.PoolGeometry;
import dev.advinterp.engine.memory.HostMemory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The CPU backend and the reference for every kernel: GEMM through OpenBLAS (or the Vector API
 * when no BLAS loads), convolution by im2col + GEMM, everything else in Java on the fixed pool of
 * {@link Parallel}. Each family of kernels lives in its own file (CpuConv2d, CpuPool, CpuBatchNorm,
 * CpuElementwise, CpuReductions, CpuUpdates); this class binds them to the {@link Backend}
 * interface and guards the one foreign call, GEMM, against out-of-range arguments.
 */
public final class CpuBackend implements Backend {
    private static final CpuBackend INSTANCE = new CpuBackend();

    private final Gemm gemm;
    private final OpenBlas.LoadResult blasLoad;

    private CpuBackend() {
        this.blasLoad = OpenBlas.load();
        this.gemm = blasLoad.blas().<Gemm>map(b -> b).orElseGet(VectorGemm::new);
    }

    public static CpuBackend instance() {
        return INSTANCE;
    }

    /** The GEMM in use. */
    public Gemm gemmImpl() {
        return gemm;
    }

    /** Bytes held by the reusable kernel workspaces (im2col buffers), included in the memory statistics. */
    @Override
    public long workspaceBytes() {
        return Workspace.totalBytes();
    }

    /** What was tried when looking for OpenBLAS, and the outcome. */
    public OpenBlas.LoadResult blasLoad() {
        return blasLoad;
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public String describe() {
        return "CPU, " + Parallel.THREADS + " threads; GEMM: " + gemm.describe();
    }

    private static MemorySegment seg(Tensor t) {
        return t == null ? null : t.segment();
    }

    // ------------------------------------------------------------------ memory

    /** The host's memory: tensors made on this backend and those made before any backend are alike. */
    @Override
    public DeviceMemory home() {
        return HostMemory.INSTANCE;
    }

    @Override
    public MemorySegment allocate(long bytes) {
        return HostMemory.INSTANCE.allocate(bytes);
    }

    @Override
    public void free(MemorySegment segment) {
        HostMemory.INSTANCE.free(segment);
    }

    @Override
    public void writeFloats(float[] src, int srcOffset, MemorySegment dst, long dstByte, int count) {
        HostMemory.INSTANCE.writeFloats(src, srcOffset, dst, dstByte, count);
    }

    @Override
    public void readFloats(MemorySegment src, long srcByte, float[] dst, int dstOffset, int count) {
        HostMemory.INSTANCE.readFloats(src, srcByte, dst, dstOffset, count);
    }

    @Override
    public void copyBytes(MemorySegment src, long srcByte, MemorySegment dst, long dstByte, long bytes) {
        HostMemory.INSTANCE.copyBytes(src, srcByte, dst, dstByte, bytes);
    }

    @Override
    public void fillFloats(MemorySegment dst, long count, float value) {
        HostMemory.INSTANCE.fillFloats(dst, count, value);
    }

    @Override
    public void copyFromHost(float[] src, int srcOffset, Tensor dst) {
        MemorySegment.copy(src, srcOffset, seg(dst), ValueLayout.JAVA_FLOAT, 0, Math.toIntExact(dst.numel()));
    }

    @Override
    public void copyToHost(Tensor src, float[] dst, int dstOffset) {
        MemorySegment.copy(seg(src), ValueLayout.JAVA_FLOAT, 0, dst, dstOffset, Math.toIntExact(src.numel()));
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        MemorySegment.copy(seg(src), 0, seg(dst), 0, src.numel() * Float.BYTES);
    }

    @Override
    public void fill(Tensor t, float value) {
        CpuElementwise.fill(seg(t), t.numel(), value);
    }

    // ------------------------------------------------------------------ dense algebra

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     Tensor a, long aOffset, int lda, Tensor b, long bOffset, int ldb,
                     float beta, Tensor c, long cOffset, int ldc) {
        if (m <= 0 || n <= 0 || k <= 0) {
            throw new IllegalArgumentException("gemm: sizes must be positive, got m=" + m + " n=" + n + " k=" + k
                    + " (A " + a.shape() + ", B " + b.shape() + ", C " + c.shape() + ")");
        }
        checkMatrix("A", a, aOffset, transA ? k : m, transA ? m : k, lda);
        checkMatrix("B", b, bOffset, transB ? n : k, transB ? k : n, ldb);
        checkMatrix("C", c, cOffset, m, n, ldc);
        gemm.sgemm(transA, transB, m, n, k, alpha, seg(a), aOffset, lda, seg(b), bOffset, ldb, beta, seg(c), cOffset, ldc);
    }

    /** A stored rows×cols row-major with leading dimension ld must lie inside t. */
    private static void checkMatrix(String name, Tensor t, long offset, int rows, int cols, int ld) {
        // compared as extent > numel − offset: offset + extent could overflow a long and pass
        if (ld < cols || offset < 0 || offset > t.numel() || (long) (rows - 1) * ld + cols > t.numel() - offset) {
            throw new IllegalArgumentException("gemm: matrix " + name + " (" + rows + "×" + cols + ", ld " + ld + ", offset "
                    + offset + ") does not fit in tensor " + t.shape());
        }
    }

    @Override
    public void addBias(Tensor y, Tensor bias, int outer, int channels, int inner) {
        CpuElementwise.addBias(seg(y), seg(bias), outer, channels, inner);
    }

    @Override
    public void channelAffine(Tensor x, Tensor scale, Tensor shift, int outer, int channels, int inner, Tensor y) {
        CpuElementwise.channelAffine(seg(x), seg(scale), seg(shift), outer, channels, inner, seg(y));
    }

    @Override
    public void sumBias(Tensor dy, int outer, int channels, int inner, Tensor dbias) {
        CpuElementwise.sumBias(seg(dy), outer, channels, inner, seg(dbias));
    }

    // ------------------------------------------------------------------ convolution

    @Override
    public void conv2dForward(Tensor x, Tensor w, Tensor bias, ConvGeometry g, Tensor y) {
        checkConv("conv2dForward", g, x, w, bias, y);
        CpuConv2d.forward(gemm, seg(x), seg(w), seg(bias), g, seg(y));
    }

    @Override
    public void conv2dBackwardData(Tensor dy, Tensor w, ConvGeometry g, Tensor dx) {
        checkConv("conv2dBackwardData", g, dx, w, null, dy);
        CpuConv2d.backwardData(gemm, seg(dy), seg(w), g, seg(dx));
    }

    @Override
    public void conv2dBackwardFilter(Tensor x, Tensor dy, ConvGeometry g, Tensor dw, Tensor dbias) {
        checkConv("conv2dBackwardFilter", g, x, dw, dbias, dy);
        CpuConv2d.backwardFilter(gemm, seg(x), seg(dy), g, seg(dw), seg(dbias));
    }

    /**
     * CpuConv2d hands the tensors to the native GEMM with sizes taken from the geometry alone, so the
     * geometry must be sane and every tensor must hold exactly the elements it describes.
     */
    private static void checkConv(String op, ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
        boolean ok = g.n() > 0 && g.cIn() > 0 && g.h() > 0 && g.w() > 0 && g.cOut() > 0 && g.kh() > 0 && g.kw() > 0
                && g.strideH() > 0 && g.strideW() > 0 && g.padH() >= 0 && g.padW() >= 0;
        long spanH = (long) g.h() + 2L * g.padH() - g.kh(), spanW = (long) g.w() + 2L * g.padW() - g.kw();
        ok = ok && spanH >= 0 && spanW >= 0 && spanH + g.kh() <= Integer.MAX_VALUE && spanW + g.kw() <= Integer.MAX_VALUE;
        long outH = ok ? spanH / g.strideH() + 1 : 0, outW = ok ? spanW / g.strideW() + 1 : 0;
        ok = ok && outH * outW <= Integer.MAX_VALUE && (long) g.cIn() * g.kh() * g.kw() <= Integer.MAX_VALUE;
        if (!ok) throw new IllegalArgumentException(op + ": invalid geometry " + g);
        expectSize(op, "input", x, g, g.n(), g.cIn(), g.h(), g.w());
        expectSize(op, "weight", w, g, g.cOut(), g.cIn(), g.kh(), g.kw());
        expectSize(op, "output", y, g, g.n(), g.cOut(), outH, outW);
        if (bias != null) expectSize(op, "bias", bias, g, g.cOut(), 1, 1, 1);
    }

    private static void expectSize(String op, String name, Tensor t, ConvGeometry g, long d0, long d1, long d2, long d3) {
        long want;
        try {
            want = Math.multiplyExact(Math.multiplyExact(d0, d1), Math.multiplyExact(d2, d3));
        } catch (ArithmeticException e) {
            want = -1;
        }
        if (t.numel() != want) {
            throw new IllegalArgumentException(op + ": " + name + " " + t.shape() + " does not hold the " + d0 + "×" + d1 + "×"
                    + d2 + "×" + d3 + " elements of geometry " + g);
        }
    }

    // ------------------------------------------------------------------ pooling

    @Override
    public void maxPool2dForward(Tensor x, PoolGeometry g, Tensor y) {
        CpuPool.maxForward(seg(x), g, seg(y));
    }

    @Override
    public void maxPool2dBackward(Tensor x, Tensor dy, PoolGeometry g, Tensor dx) {
        CpuPool.maxBackward(seg(x), seg(dy), g, seg(dx));
    }

    @Override
    public void avgPool2dForward(Tensor x, PoolGeometry g, Tensor y) {
        CpuPool.avgForward(seg(x), g, seg(y));
    }

    @Override
    public void avgPool2dBackward(Tensor dy, PoolGeometry g, Tensor dx) {
        CpuPool.avgBackward(seg(dy), g, seg(dx));
    }

    @Override
    public void adaptiveAvgPool2dForward(Tensor x, Tensor y) {
        CpuPool.adaptiveAvgForward(seg(x), x.dim(0) * x.dim(1), x.dim(2), x.dim(3), y.dim(2), y.dim(3), seg(y));
    }

    @Override
    public void adaptiveAvgPool2dBackward(Tensor dy, Tensor dx) {
        CpuPool.adaptiveAvgBackward(seg(dy), dx.dim(0) * dx.dim(1), dx.dim(2), dx.dim(3), dy.dim(2), dy.dim(3), seg(dx));
    }

    // ------------------------------------------------------------------ batch normalisation

    private static int hw(Tensor x) {
        return Math.toIntExact(x.shape().sizeFrom(2));
    }

    @Override
    public void batchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                      float momentum, float eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        CpuBatchNorm.trainForward(seg(x), seg(gamma), seg(beta), seg(runningMean), seg(runningVar), momentum, eps, seg(y),
                seg(saveMean), seg(saveInvStd), x.dim(0), x.dim(1), hw(x));
    }

    @Override
    public void batchNormInferenceForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                          float eps, Tensor y) {
        CpuBatchNorm.inferenceForward(seg(x), seg(gamma), seg(beta), seg(runningMean), seg(runningVar), eps, seg(y),
                x.dim(0), x.dim(1), hw(x));
    }

    @Override
    public void batchNormTrainBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                       Tensor dx, Tensor dgamma, Tensor dbeta) {
        CpuBatchNorm.trainBackward(seg(x), seg(dy), seg(gamma), seg(saveMean), seg(saveInvStd), seg(dx), seg(dgamma),
                seg(dbeta), x.dim(0), x.dim(1), hw(x));
    }

    @Override
    public void batchNormInferenceBackward(Tensor x, Tensor dy, Tensor gamma, Tensor runningMean, Tensor runningVar,
                                           float eps, Tensor dx, Tensor dgamma, Tensor dbeta) {
        CpuBatchNorm.inferenceBackward(seg(x), seg(dy), seg(gamma), seg(runningMean), seg(runningVar), eps, seg(dx),
                seg(dgamma), seg(dbeta), x.dim(0), x.dim(1), hw(x));
    }

    // ------------------------------------------------------------------ activations and elementwise

    @Override
    public void reluForward(Tensor x, Tensor y) {
        CpuElementwise.relu(seg(x), seg(y), x.numel());
    }

    @Override
    public void reluBackward(Tensor y, Tensor dy, Tensor dx) {
        CpuElementwise.reluBackward(seg(y), seg(dy), seg(dx), y.numel());
    }

    @Override
    public void dropoutForward(Tensor x, float p, long seed, Tensor y) {
        CpuElementwise.dropout(seg(x), p, seed, seg(y), x.numel());
    }

    @Override
    public void dropoutBackward(Tensor dy, float p, long seed, Tensor dx) {
        CpuElementwise.dropout(seg(dy), p, seed, seg(dx), dy.numel());
    }

    @Override
    public void axpby(float a, Tensor x, float b, Tensor y, Tensor out) {
        CpuElementwise.axpby(a, seg(x), b, seg(y), seg(out), out.numel());
    }

    @Override
    public void scale(Tensor x, float a, Tensor out) {
        CpuElementwise.scale(seg(x), a, seg(out), out.numel());
    }

    @Override
    public double sum(Tensor x) {
        return CpuReductions.sum(seg(x), x.numel());
    }

    // ------------------------------------------------------------------ selection

    @Override
    public void argmax(Tensor x, int rows, int cols, int[] out) {
        CpuReductions.argmax(seg(x), rows, cols, out);
    }

    @Override
    public void topk(Tensor x, int rows, int cols, int k, int[] indices, float[] values) {
        CpuReductions.topk(seg(x), rows, cols, k, indices, values);
    }

    // ------------------------------------------------------------------ fused primitives

    @Override
    public double softmaxCrossEntropy(Tensor logits, int rows, int cols, int[] labels, Tensor grad, float gradScale,
                                      float[] rowLosses) {
        return CpuReductions.softmaxCrossEntropy(seg(logits), rows, cols, labels, seg(grad), gradScale, rowLosses);
    }

    @Override
    public double featureMatching(Tensor a, Tensor b, Tensor gradA, Tensor gradB) {
        return CpuReductions.featureMatching(seg(a), seg(b), seg(gradA), seg(gradB), a.numel());
    }

    @Override
    public void fgsmStep(Tensor x, Tensor grad, Tensor x0, float alpha, float eps, float[] lo, float[] hi) {
        int channels = x.rank() >= 2 ? x.dim(1) : 1;
        int inner = x.rank() >= 2 ? Math.toIntExact(x.shape().sizeFrom(2)) : Math.toIntExact(x.numel());
        int planes = Math.toIntExact(x.numel() / inner);
        CpuUpdates.fgsmStep(seg(x), seg(grad), seg(x0), alpha, eps, lo, hi, planes, channels, inner);
    }

    @Override
    public void sgdUpdate(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum, float dampening,
                          float weightDecay, boolean nesterov) {
        CpuUpdates.sgd(seg(param), seg(grad), seg(momentumBuffer), lr, momentum, dampening, weightDecay, nesterov, param.numel());
    }
}
