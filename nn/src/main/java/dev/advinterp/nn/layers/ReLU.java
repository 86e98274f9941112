package dev.advinterp.nn.layers;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.Activations;
import dev.advinterp.nn.Module;

/**
 * Rectified linear unit. {@code new ReLU(true)} is torchvision's {@code ReLU(inplace=True)}: it
 * writes over its input ({@link Ops#reluInPlace}), one activation less to hold per ReLU, which the
 * models use after their convolutions, batch norms, linear layers and residual sums. It makes a new
 * tensor instead when an {@link Activations} capture holds its input, so that a captured output
 * keeps the values its module gave.
 */
public final class ReLU extends Module {
    private final boolean inPlace;

    /** A ReLU that makes a new tensor. */
    public ReLU() {
        this(false);
    }

    public ReLU(boolean inPlace) {
        this.inPlace = inPlace;
    }

    @Override
    protected Tensor forward(Tensor x) {
        return inPlace && !Activations.holds(x) ? Ops.reluInPlace(x) : Ops.relu(x);
    }
}
