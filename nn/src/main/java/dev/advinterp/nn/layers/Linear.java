package dev.advinterp.nn.layers;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.Module;

import java.util.SplittableRandom;

/** Fully connected layer (PyTorch's Linear): {@code weight [out, in]}, {@code bias [out]}. */
public final class Linear extends Module {
    public final int in, out;
    private final Tensor weight, bias;

    /** How the weights start. */
    public enum Init {
        /** PyTorch's default: weight and bias U(±1/√in). */
        TORCH_DEFAULT,
        /** torchvision's VGG classifier: weight N(0, 0.01²), bias 0. */
        NORMAL_001
    }

    public Linear(int in, int out, SplittableRandom r) {
        this(in, out, Init.TORCH_DEFAULT, r);
    }

    public Linear(int in, int out, Init init, SplittableRandom r) {
        if (in <= 0 || out <= 0) throw new IllegalArgumentException("Linear(" + in + ", " + out + "): sizes must be positive");
        this.in = in;
        this.out = out;
        boolean normal = init == Init.NORMAL_001;
        this.weight = parameter("weight", normal ? Inits.normal(r, 0.01f, out, in) : Inits.torchDefault(r, in, out, in));
        this.bias = parameter("bias", normal ? Inits.constant(0f, out) : Inits.torchDefault(r, in, out));
    }

    public Tensor weight() {
        return weight;
    }

    public Tensor bias() {
        return bias;
    }

    @Override
    protected Tensor forward(Tensor x) {
        return Ops.linear(x, weight, bias);
    }
}
