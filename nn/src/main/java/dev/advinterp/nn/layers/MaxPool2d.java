package dev.advinterp.nn.layers;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.Module;

/** Max pooling with a square window (floor rounding, as torchvision's models use it). */
public final class MaxPool2d extends Module {
    public final int kernel, stride, padding;

    public MaxPool2d(int kernel, int stride, int padding) {
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
    }

    @Override
    protected Tensor forward(Tensor x) {
        return Ops.maxPool2d(x, kernel, stride, padding);
    }
}
