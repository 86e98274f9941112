package dev.advinterp.nn.layers;

import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.Backends;

import java.util.SplittableRandom;

/** Seeded weight initialisations, as PyTorch and torchvision define them. */
public final class Inits {
    private Inits() {
    }

    /** U(−bound, bound). */
    public static Tensor uniform(SplittableRandom r, float bound, int... dims) {
        return Tensor.rand(r.nextLong(), -bound, bound, dims);
    }

    /** N(0, std²). */
    public static Tensor normal(SplittableRandom r, float std, int... dims) {
        return Tensor.randn(r.nextLong(), std, dims);
    }

    /** PyTorch's default for conv and linear weights and biases: U(±1/√fanIn). */
    public static Tensor torchDefault(SplittableRandom r, int fanIn, int... dims) {
        return uniform(r, (float) (1.0 / Math.sqrt(fanIn)), dims);
    }

    /** Kaiming normal, fan-out mode, ReLU gain (torchvision's ResNet and VGG convolutions): N(0, 2/fanOut). */
    public static Tensor kaimingNormalFanOut(SplittableRandom r, int fanOut, int... dims) {
        return normal(r, (float) Math.sqrt(2.0 / fanOut), dims);
    }

    public static Tensor constant(float v, int... dims) {
        Tensor t = Tensor.zeros(dims);
        if (v != 0f) Backends.of(t).fill(t, v);
        return t;
    }
}
