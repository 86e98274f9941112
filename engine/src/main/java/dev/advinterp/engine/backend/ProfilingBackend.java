package dev.advinterp.engine.backend;

import dev.advinterp.engine.Device;
import dev.advinterp.engine.DeviceMemory;
import dev.advinterp.engine.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * A backend that times every primitive of another one: calls and nanoseconds per kernel, for
 * finding where a model's step spends its time ({@code -Dadvinterp.profile=true} makes it the
 * default backend; {@link #report()} prints the table). Timing adds two clock reads per call.
 */
public final class ProfilingBackend implements Backend {
    private final Backend delegate;
    private final Map<String, LongAdder[]> stats = new ConcurrentHashMap<>();

    public ProfilingBackend(Backend inner) {
        this.delegate = inner;
    }

    public Backend inner() {
        return delegate;
    }

    private void add(String name, long t0) {
        LongAdder[] s = stats.computeIfAbsent(name, k -> new LongAdder[]{new LongAdder(), new LongAdder()});
        s[0].increment();
        s[1].add(System.nanoTime() - t0);
    }

    /** Kernels by total time, with calls and milliseconds. */
    public String report() {
        TreeMap<Long, String> rows = new TreeMap<>(java.util.Comparator.reverseOrder());
        long total = 0;
        for (var e : stats.entrySet()) total += e.getValue()[1].sum();
        for (var e : stats.entrySet()) {
            long ns = e.getValue()[1].sum();
            rows.put(ns * 1000 + rows.size(), String.format("%-28s %8d calls %10.1f ms %5.1f%%", e.getKey(), e.getValue()[0].sum(), ns / 1e6,
                    100.0 * ns / Math.max(1, total)));
        }
        return String.join("\n", rows.values());
    }

    public void reset() {
        stats.clear();
    }

    @Override
    public Device device() {
        return delegate.device();
    }

    @Override
    public String describe() {
        return delegate.describe();
    }

    @Override
    public long memoryInUse() {
        return delegate.memoryInUse();
    }

    @Override
    public long memoryPeak() {
        return delegate.memoryPeak();
    }

    @Override
    public void resetMemoryPeak() {
        delegate.resetMemoryPeak();
    }

    @Override
    public long workspaceBytes() {
        return delegate.workspaceBytes();
    }

    @Override
    public MemorySegment allocate(long bytes) {
        return delegate.allocate(bytes);
    }

    @Override
    public void free(MemorySegment segment) {
        delegate.free(segment);
    }

    /** The inner backend's: tensors made through the profiler live on the inner backend's device. */
    @Override
    public DeviceMemory home() {
        return delegate.home();
    }

    @Override
    public void writeFloats(float[] src, int srcOffset, MemorySegment dst, long dstByte, int count) {
        delegate.writeFloats(src, srcOffset, dst, dstByte, count);
    }

    @Override
    public void readFloats(MemorySegment src, long srcByte, float[] dst, int dstOffset, int count) {
        delegate.readFloats(src, srcByte, dst, dstOffset, count);
    }

    @Override
    public void copyBytes(MemorySegment src, long srcByte, MemorySegment dst, long dstByte, long bytes) {
        delegate.copyBytes(src, srcByte, dst, dstByte, bytes);
    }

    @Override
    public void fillFloats(MemorySegment dst, long count, float value) {
        delegate.fillFloats(dst, count, value);
    }

    @Override
    public void copyFromHost(float[] src, int srcOffset, Tensor dst) {
        long t0 = System.nanoTime();
        delegate.copyFromHost(src, srcOffset, dst);
        add("copyFromHost", t0);
    }

    @Override
    public void copyToHost(Tensor src, float[] dst, int dstOffset) {
        long t0 = System.nanoTime();
        delegate.copyToHost(src, dst, dstOffset);
        add("copyToHost", t0);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        long t0 = System.nanoTime();
        delegate.copy(src, dst);
        add("copy", t0);
    }

    @Override
    public void fill(Tensor t, float value) {
        long t0 = System.nanoTime();
        delegate.fill(t, value);
        add("fill", t0);
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, long aOffset, int lda, Tensor b, long bOffset, int ldb, float beta, Tensor c, long cOffset, int ldc) {
        long t0 = System.nanoTime();
        delegate.gemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
        add("gemm", t0);
    }

    @Override
    public void addBias(Tensor y, Tensor bias, int outer, int channels, int inner) {
        long t0 = System.nanoTime();
        delegate.addBias(y, bias, outer, channels, inner);
        add("addBias", t0);
    }

    @Override
    public void channelAffine(Tensor x, Tensor scale, Tensor shift, int outer, int channels, int inner, Tensor y) {
        long t0 = System.nanoTime();
        delegate.channelAffine(x, scale, shift, outer, channels, inner, y);
        add("channelAffine", t0);
    }

    @Override
    public void sumBias(Tensor dy, int outer, int channels, int inner, Tensor dbias) {
        long t0 = System.nanoTime();
        delegate.sumBias(dy, outer, channels, inner, dbias);
        add("sumBias", t0);
    }

    @Override
    public void conv2dForward(Tensor x, Tensor w, Tensor bias, ConvGeometry g, Tensor y) {
        long t0 = System.nanoTime();
        delegate.conv2dForward(x, w, bias, g, y);
        add("conv2dForward", t0);
    }

    @Override
    public void conv2dBackwardData(Tensor dy, Tensor w, ConvGeometry g, Tensor dx) {
        long t0 = System.nanoTime();
        delegate.conv2dBackwardData(dy, w, g, dx);
        add("conv2dBackwardData", t0);
    }

    @Override
    public void conv2dBackwardFilter(Tensor x, Tensor dy, ConvGeometry g, Tensor dw, Tensor dbias) {
        long t0 = System.nanoTime();
        delegate.conv2dBackwardFilter(x, dy, g, dw, dbias);
        add("conv2dBackwardFilter", t0);
    }

    @Override
    public void maxPool2dForward(Tensor x, PoolGeometry g, Tensor y) {
        long t0 = System.nanoTime();
        delegate.maxPool2dForward(x, g, y);
        add("maxPool2dForward", t0);
    }

    @Override
    public void maxPool2dBackward(Tensor x, Tensor dy, PoolGeometry g, Tensor dx) {
        long t0 = System.nanoTime();
        delegate.maxPool2dBackward(x, dy, g, dx);
        add("maxPool2dBackward", t0);
    }

    @Override
    public void avgPool2dForward(Tensor x, PoolGeometry g, Tensor y) {
        long t0 = System.nanoTime();
        delegate.avgPool2dForward(x, g, y);
        add("avgPool2dForward", t0);
    }

    @Override
    public void avgPool2dBackward(Tensor dy, PoolGeometry g, Tensor dx) {
        long t0 = System.nanoTime();
        delegate.avgPool2dBackward(dy, g, dx);
        add("avgPool2dBackward", t0);
    }

    @Override
    public void adaptiveAvgPool2dForward(Tensor x, Tensor y) {
        long t0 = System.nanoTime();
        delegate.adaptiveAvgPool2dForward(x, y);
        add("adaptiveAvgPool2dForward", t0);
    }

    @Override
    public void adaptiveAvgPool2dBackward(Tensor dy, Tensor dx) {
        long t0 = System.nanoTime();
        delegate.adaptiveAvgPool2dBackward(dy, dx);
        add("adaptiveAvgPool2dBackward", t0);
    }

    @Override
    public void batchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, float momentum, float eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        long t0 = System.nanoTime();
        delegate.batchNormTrainForward(x, gamma, beta, runningMean, runningVar, momentum, eps, y, saveMean, saveInvStd);
        add("batchNormTrainForward", t0);
    }

    @Override
    public void batchNormInferenceForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, float eps, Tensor y) {
        long t0 = System.nanoTime();
        delegate.batchNormInferenceForward(x, gamma, beta, runningMean, runningVar, eps, y);
        add("batchNormInferenceForward", t0);
    }

    @Override
    public void batchNormTrainBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, Tensor dx, Tensor dgamma, Tensor dbeta) {
        long t0 = System.nanoTime();
        delegate.batchNormTrainBackward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta);
        add("batchNormTrainBackward", t0);
    }

    @Override
    public void batchNormInferenceBackward(Tensor x, Tensor dy, Tensor gamma, Tensor runningMean, Tensor runningVar, float eps, Tensor dx, Tensor dgamma, Tensor dbeta) {
        long t0 = System.nanoTime();
        delegate.batchNormInferenceBackward(x, dy, gamma, runningMean, runningVar, eps, dx, dgamma, dbeta);
        add("batchNormInferenceBackward", t0);
    }

    @Override
    public void reluForward(Tensor x, Tensor y) {
        long t0 = System.nanoTime();
        delegate.reluForward(x, y);
        add("reluForward", t0);
    }

    @Override
    public void reluBackward(Tensor y, Tensor dy, Tensor dx) {
        long t0 = System.nanoTime();
        delegate.reluBackward(y, dy, dx);
        add("reluBackward", t0);
    }

    @Override
    public void dropoutForward(Tensor x, float p, long seed, Tensor y) {
        long t0 = System.nanoTime();
        delegate.dropoutForward(x, p, seed, y);
        add("dropoutForward", t0);
    }

    @Override
    public void dropoutBackward(Tensor dy, float p, long seed, Tensor dx) {
        long t0 = System.nanoTime();
        delegate.dropoutBackward(dy, p, seed, dx);
        add("dropoutBackward", t0);
    }

    @Override
    public void axpby(float a, Tensor x, float b, Tensor y, Tensor out) {
        long t0 = System.nanoTime();
        delegate.axpby(a, x, b, y, out);
        add("axpby", t0);
    }

    @Override
    public void scale(Tensor x, float a, Tensor out) {
        long t0 = System.nanoTime();
        delegate.scale(x, a, out);
        add("scale", t0);
    }

    @Override
    public double sum(Tensor x) {
        long t0 = System.nanoTime();
        double r = delegate.sum(x);
        add("sum", t0);
        return r;
    }

    @Override
    public void argmax(Tensor x, int rows, int cols, int[] out) {
        long t0 = System.nanoTime();
        delegate.argmax(x, rows, cols, out);
        add("argmax", t0);
    }

    @Override
    public void topk(Tensor x, int rows, int cols, int k, int[] indices, float[] values) {
        long t0 = System.nanoTime();
        delegate.topk(x, rows, cols, k, indices, values);
        add("topk", t0);
    }

    @Override
    public double softmaxCrossEntropy(Tensor logits, int rows, int cols, int[] labels, Tensor grad, float gradScale, float[] rowLosses) {
        long t0 = System.nanoTime();
        double r = delegate.softmaxCrossEntropy(logits, rows, cols, labels, grad, gradScale, rowLosses);
        add("softmaxCrossEntropy", t0);
        return r;
    }

    @Override
    public double featureMatching(Tensor a, Tensor b, Tensor gradA, Tensor gradB) {
        long t0 = System.nanoTime();
        double r = delegate.featureMatching(a, b, gradA, gradB);
        add("featureMatching", t0);
        return r;
    }

    @Override
    public void fgsmStep(Tensor x, Tensor grad, Tensor x0, float alpha, float eps, float[] lo, float[] hi) {
        long t0 = System.nanoTime();
        delegate.fgsmStep(x, grad, x0, alpha, eps, lo, hi);
        add("fgsmStep", t0);
    }

    @Override
    public void sgdUpdate(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum, float dampening, float weightDecay, boolean nesterov) {
        long t0 = System.nanoTime();
        delegate.sgdUpdate(param, grad, momentumBuffer, lr, momentum, dampening, weightDecay, nesterov);
        add("sgdUpdate", t0);
    }
}
