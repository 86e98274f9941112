package dev.advinterp.engine.backend;

import dev.advinterp.engine.Tensor;

/** Max, average and adaptive average pooling, forward and backward: see {@link Backend#maxPool2dForward} and the five after it. */
public interface PoolingKernels extends KernelFamily {

    void maxForward(Tensor x, PoolGeometry g, Tensor y);

    void maxBackward(Tensor x, Tensor y, Tensor dy, PoolGeometry g, Tensor dx);

    void avgForward(Tensor x, PoolGeometry g, Tensor y);

    void avgBackward(Tensor x, Tensor y, Tensor dy, PoolGeometry g, Tensor dx);

    void adaptiveAvgForward(Tensor x, Tensor y);

    void adaptiveAvgBackward(Tensor dy, Tensor dx);
}
