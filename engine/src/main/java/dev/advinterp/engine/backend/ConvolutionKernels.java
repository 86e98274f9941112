package dev.advinterp.engine.backend;

import dev.advinterp.engine.Tensor;

/** 2-D convolution, its data and filter gradients: see {@link Backend#conv2dForward} and the two after it. */
public interface ConvolutionKernels extends KernelFamily {

    void forward(Tensor x, Tensor w, Tensor bias, ConvGeometry g, Tensor y);

    void backwardData(Tensor dy, Tensor w, ConvGeometry g, Tensor dx);

    void backwardFilter(Tensor x, Tensor dy, ConvGeometry g, Tensor dw, Tensor dbias);
}
