package dev.advinterp.nn.layers;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.Module;

/** Adaptive average pooling to a fixed output size (PyTorch's bins). */
public final class AdaptiveAvgPool2d extends Module {
    public final int outH, outW;

    public AdaptiveAvgPool2d(int outH, int outW) {
        this.outH = outH;
        this.outW = outW;
    }

    @Override
    protected Tensor forward(Tensor x) {
        return Ops.adaptiveAvgPool2d(x, outH, outW);
    }
}
