package dev.advinterp.experiments.demo;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The demo's small CNN, written directly with {@link Ops}:
 * conv 3×3 (1→8) → batch norm → ReLU → max pool 2 → conv 3×3 (8→16) → ReLU → max pool 2 →
 * global average pool → dropout → linear (16→4). Parameters and batch-norm buffers live in
 * the net's own detached scope.
 */
public final class DemoNet implements AutoCloseable {
    private final Scope scope = Scope.detached("demo-net");
    final Tensor conv1W, conv1B, bnGamma, bnBeta, bnMean, bnVar, conv2W, conv2B, fcW, fcB;
    private final List<Tensor> params = new ArrayList<>();
    private final float dropout;

    public DemoNet(long seed, float dropout) {
        this.dropout = dropout;
        SplittableRandom r = new SplittableRandom(seed);
        conv1W = param(uniform(r, 1 * 9, 8, 1, 3, 3));
        conv1B = param(uniform(r, 1 * 9, 8));
        bnGamma = param(constant(1f, 8));
        bnBeta = param(constant(0f, 8));
        bnMean = buffer(constant(0f, 8));
        bnVar = buffer(constant(1f, 8));
        conv2W = param(uniform(r, 8 * 9, 16, 8, 3, 3));
        conv2B = param(uniform(r, 8 * 9, 16));
        fcW = param(uniform(r, 16, OrientedBars.CLASSES, 16));
        fcB = param(uniform(r, 16, OrientedBars.CLASSES));
    }

    /** PyTorch's default init for conv and linear layers: U(−1/√fanIn, 1/√fanIn). */
    private static Tensor uniform(SplittableRandom r, int fanIn, int... dims) {
        float bound = (float) (1.0 / Math.sqrt(fanIn));
        return Tensor.rand(r.nextLong(), -bound, bound, dims);
    }

    private static Tensor constant(float v, int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return Tensor.of(a, n);
    }

    private Tensor param(Tensor t) {
        scope.adopt(t).requiresGrad(true);
        params.add(t);
        return t;
    }

    private Tensor buffer(Tensor t) {
        return scope.adopt(t);
    }

    public List<Tensor> parameters() {
        return List.copyOf(params);
    }

    /** Logits {@code [n, 4]} for images {@code [n, 1, h, w]}. */
    public Tensor forward(Tensor x, boolean training, long dropoutSeed) {
        Tensor h = Ops.conv2d(x, conv1W, conv1B, 1, 1);
        h = Ops.batchNorm(h, bnGamma, bnBeta, bnMean, bnVar, training, 0.1f, 1e-5f);
        h = Ops.maxPool2d(Ops.relu(h), 2, 2, 0);
        h = Ops.relu(Ops.conv2d(h, conv2W, conv2B, 1, 1));
        h = Ops.maxPool2d(h, 2, 2, 0);
        h = Ops.flatten(Ops.adaptiveAvgPool2d(h, 1, 1));
        h = Ops.dropout(h, dropout, dropoutSeed, training);
        return Ops.linear(h, fcW, fcB);
    }

    /** The bits of every parameter and buffer, for reproducibility checks. */
    public long fingerprint() {
        long hsh = 1125899906842597L;
        for (Tensor t : List.of(conv1W, conv1B, bnGamma, bnBeta, bnMean, bnVar, conv2W, conv2B, fcW, fcB)) {
            for (float v : t.toArray()) hsh = 31 * hsh + Float.floatToRawIntBits(v);
        }
        return hsh;
    }

    @Override
    public void close() {
        scope.close();
    }
}
