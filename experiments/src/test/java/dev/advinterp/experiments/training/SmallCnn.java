package dev.advinterp.experiments.training;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.layers.BatchNorm2d;
import dev.advinterp.nn.layers.Conv2d;
import dev.advinterp.nn.layers.Linear;
import dev.advinterp.nn.layers.MaxPool2d;
import dev.advinterp.nn.layers.ReLU;
import dev.advinterp.nn.layers.Sequential;
import dev.advinterp.nn.models.Architecture;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.models.ModelConfig;

import java.util.SplittableRandom;

/**
 * A small CNN for Fashion-MNIST that trains in seconds on two cores: conv 3×3 (1→16) → BN → ReLU →
 * max pool → conv 3×3 (16→32) → ReLU ("features.5", φ) → max pool → linear (32·7·7 → 10).
 */
final class SmallCnn extends ImageModel {
    private final Sequential features;
    private final Linear fc;

    SmallCnn(long seed) {
        super(ModelConfig.small(Architecture.ALEXNET, 1, 28, 10, seed));
        SplittableRandom r = new SplittableRandom(seed);
        features = child("features", new Sequential(new Conv2d(1, 16, 3, 1, 1, true, r), new BatchNorm2d(16), new ReLU(),
                new MaxPool2d(2, 2, 0), new Conv2d(16, 32, 3, 1, 1, true, r), new ReLU(), new MaxPool2d(2, 2, 0)));
        fc = child("fc", new Linear(32 * 7 * 7, 10, r));
    }

    @Override
    public String phiLayer() {
        return "features.5";
    }

    @Override
    protected Tensor logits(Tensor x) {
        return fc.call(Ops.flatten(features.call(x)));
    }
}
