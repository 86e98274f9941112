package dev.advinterp.nn.models;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.layers.AdaptiveAvgPool2d;
import dev.advinterp.nn.layers.Conv2d;
import dev.advinterp.nn.layers.Dropout;
import dev.advinterp.nn.layers.Linear;
import dev.advinterp.nn.layers.MaxPool2d;
import dev.advinterp.nn.layers.ReLU;
import dev.advinterp.nn.layers.Sequential;

import java.util.SplittableRandom;

/**
 * AlexNet as torchvision builds it (features, avgpool 6×6, classifier; PyTorch's default
 * initialisation). Small-input adaptations ({@link Layout#SMALL}), keeping every state-dict key:
 * <ul>
 *   <li>inputs below 64×64: the first convolution is 5×5, stride 1, padding 2 (11×11 stride 4
 *       would leave nothing after three max pools);</li>
 *   <li>inputs below 224×224: the two hidden classifier layers have 512 units instead of 4096.</li>
 * </ul>
 * The width multiplier scales every convolution's channels and the hidden units. φ is
 * {@code features.11}, the ReLU after the last convolution {@code features.10}.
 */
public final class AlexNet extends ImageModel {
    private final Sequential features, classifier;
    private final AdaptiveAvgPool2d avgpool;

    public AlexNet(ModelConfig c) {
        super(c);
        SplittableRandom r = new SplittableRandom(c.seed());
        boolean adapt = c.layout() == Layout.SMALL;
        boolean tiny = adapt && c.inputSize() < 64;
        if (!tiny && c.inputSize() < 63) {
            throw new IllegalArgumentException("AlexNet with torchvision's 11×11 stride-4 first convolution needs inputs of 63 px or more, got "
                    + c.inputSize() + " (the small layout adapts it)");
        }
        int hidden = c.scaled(adapt && c.inputSize() < 224 ? 512 : 4096);
        int c1 = c.scaled(64), c2 = c.scaled(192), c3 = c.scaled(384), c4 = c.scaled(256), c5 = c.scaled(256);
        features = child("features", new Sequential(
                tiny ? new Conv2d(c.inChannels(), c1, 5, 1, 2, true, r) : new Conv2d(c.inChannels(), c1, 11, 4, 2, true, r),
                new ReLU(true), new MaxPool2d(3, 2, 0),
                new Conv2d(c1, c2, 5, 1, 2, true, r), new ReLU(true), new MaxPool2d(3, 2, 0),
                new Conv2d(c2, c3, 3, 1, 1, true, r), new ReLU(true),
                new Conv2d(c3, c4, 3, 1, 1, true, r), new ReLU(true),
                new Conv2d(c4, c5, 3, 1, 1, true, r), new ReLU(true), new MaxPool2d(3, 2, 0)));
        avgpool = child("avgpool", new AdaptiveAvgPool2d(6, 6));
        classifier = child("classifier", new Sequential(
                new Dropout(0.5f), new Linear(c5 * 6 * 6, hidden, r), new ReLU(true),
                new Dropout(0.5f), new Linear(hidden, hidden, r), new ReLU(true),
                new Linear(hidden, c.classes(), r)));
    }

    @Override
    public String phiLayer() {
        return "features.11";
    }

    @Override
    protected Tensor logits(Tensor x) {
        x = avgpool.call(features.call(x));
        return classifier.call(Ops.flatten(x));
    }
}
