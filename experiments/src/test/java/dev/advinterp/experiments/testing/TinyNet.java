package dev.advinterp.experiments.testing;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.layers.Conv2d;
import dev.advinterp.nn.layers.Linear;
import dev.advinterp.nn.layers.ReLU;
import dev.advinterp.nn.models.Architecture;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.models.ModelConfig;

import java.util.SplittableRandom;

/** A small CNN for fast attack tests: conv 3×3 (1→6) → ReLU ("relu", its φ) → global average → linear (6→4). */
public final class TinyNet extends ImageModel {
    private final Conv2d conv;
    private final ReLU relu;
    private final Linear fc;

    public TinyNet(long seed) {
        this(seed, 28);
    }

    public TinyNet(long seed, int size) {
        super(ModelConfig.small(Architecture.ALEXNET, 1, Math.max(28, size), 4, seed));
        SplittableRandom r = new SplittableRandom(seed);
        conv = child("conv", new Conv2d(1, 6, 3, 1, 1, true, r));
        relu = child("relu", new ReLU());
        fc = child("fc", new Linear(6, 4, r));
    }

    @Override
    public String phiLayer() {
        return "relu";
    }

    @Override
    protected Tensor logits(Tensor x) {
        return fc.call(Ops.flatten(Ops.adaptiveAvgPool2d(relu.call(conv.call(x)), 1, 1)));
    }
}
