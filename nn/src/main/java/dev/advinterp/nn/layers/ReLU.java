package dev.advinterp.nn.layers;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.Module;

/** Rectified linear unit. */
public final class ReLU extends Module {
    @Override
    protected Tensor forward(Tensor x) {
        return Ops.relu(x);
    }
}
