package dev.advinterp.nn.layers;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.Module;

import java.util.SplittableRandom;

/** 2-D convolution (PyTorch's Conv2d, groups 1): {@code weight [out, in, k, k]}, optional {@code bias [out]}. */
public final class Conv2d extends Module {
    public final int in, out, kernel, stride, padding;
    private final Tensor weight, bias;

    /** How the weights start. */
    public enum Init {
        /** PyTorch's default: weight and bias U(±1/√fanIn). */
        TORCH_DEFAULT,
        /** torchvision's ResNet and VGG: weight N(0, 2/fanOut) (Kaiming, fan-out, ReLU), bias 0. */
        KAIMING_FAN_OUT
    }

    public Conv2d(int in, int out, int kernel, int stride, int padding, boolean bias, SplittableRandom r) {
        this(in, out, kernel, stride, padding, bias, Init.TORCH_DEFAULT, r);
    }

    public Conv2d(int in, int out, int kernel, int stride, int padding, boolean bias, Init init, SplittableRandom r) {
        if (in <= 0 || out <= 0 || kernel <= 0 || stride <= 0 || padding < 0) {
            throw new IllegalArgumentException("Conv2d(" + in + ", " + out + ", kernel " + kernel + ", stride " + stride
                    + ", padding " + padding + "): sizes must be positive");
        }
        this.in = in;
        this.out = out;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        int fanIn = in * kernel * kernel;
        boolean kaiming = init == Init.KAIMING_FAN_OUT;
        this.weight = parameter("weight", kaiming
                ? Inits.kaimingNormalFanOut(r, out * kernel * kernel, out, in, kernel, kernel)
                : Inits.torchDefault(r, fanIn, out, in, kernel, kernel));
        this.bias = !bias ? null : parameter("bias", kaiming ? Inits.constant(0f, out) : Inits.torchDefault(r, fanIn, out));
    }

    public Tensor weight() {
        return weight;
    }

    public Tensor bias() {
        return bias;
    }

    @Override
    protected Tensor forward(Tensor x) {
        return Ops.conv2d(x, weight, bias, stride, padding);
    }
}
