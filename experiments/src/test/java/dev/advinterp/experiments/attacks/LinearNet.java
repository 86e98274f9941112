package dev.advinterp.experiments.attacks;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.layers.Linear;
import dev.advinterp.nn.models.Architecture;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.models.ModelConfig;

import java.util.SplittableRandom;

/** Softmax regression on the pixels: every class is reachable inside [0, 1], which targeted tests need. */
final class LinearNet extends ImageModel {
    private final Linear fc;

    LinearNet(long seed) {
        super(ModelConfig.small(Architecture.ALEXNET, 1, 28, 4, seed));
        fc = child("fc", new Linear(28 * 28, 4, new SplittableRandom(seed)));
    }

    @Override
    public String phiLayer() {
        return "fc";
    }

    @Override
    protected Tensor logits(Tensor x) {
        return fc.call(Ops.flatten(x));
    }
}
