package dev.advinterp.engine.backend;

import dev.advinterp.engine.Tensor;

/**
 * Per-element and per-channel maps: bias, channel affine and bias sums, ReLU, dropout, axpby,
 * scale. See the methods of the same names on {@link Backend}.
 */
public interface ElementwiseKernels extends KernelFamily {

    void addBias(Tensor y, Tensor bias, int outer, int channels, int inner);

    void channelAffine(Tensor x, Tensor scale, Tensor shift, int outer, int channels, int inner, Tensor y);

    void sumBias(Tensor dy, int outer, int channels, int inner, Tensor dbias);

    void reluForward(Tensor x, Tensor y);

    void reluBackward(Tensor y, Tensor dy, Tensor dx);

    void dropoutForward(Tensor x, float p, long seed, Tensor y);

    void dropoutBackward(Tensor dy, float p, long seed, Tensor dx);

    void axpby(float a, Tensor x, float b, Tensor y, Tensor out);

    void scale(Tensor x, float a, Tensor out);
}
