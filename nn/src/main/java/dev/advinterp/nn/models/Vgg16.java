package dev.advinterp.nn.models;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.Module;
import dev.advinterp.nn.layers.AdaptiveAvgPool2d;
import dev.advinterp.nn.layers.BatchNorm2d;
import dev.advinterp.nn.layers.Conv2d;
import dev.advinterp.nn.layers.Dropout;
import dev.advinterp.nn.layers.Linear;
import dev.advinterp.nn.layers.MaxPool2d;
import dev.advinterp.nn.layers.ReLU;
import dev.advinterp.nn.layers.Sequential;

import java.util.SplittableRandom;

/**
 * VGG-16 (configuration D), with or without batch norm, as torchvision builds it: convolutions
 * initialised Kaiming-normal (fan-out, ReLU) with zero bias, batch norm 1 and 0, linear layers
 * N(0, 0.01) with zero bias. Small-input adaptations ({@link Layout#SMALL}), keeping every
 * state-dict key:
 * <ul>
 *   <li>inputs below 224×224: the classifier comes after global average pooling (avgpool 1×1,
 *       so the first linear layer takes 512 features) and its hidden layers have 512 units;</li>
 *   <li>inputs below 32×32: the fifth max pool is left out (the map is already 1×1).</li>
 * </ul>
 * The width multiplier scales every convolution's channels and the hidden units. φ is conv5_3
 * after its ReLU: {@code features.29} ({@code features.42} with batch norm).
 */
public final class Vgg16 extends ImageModel {
    private static final int[] CFG_D = {64, 64, -1, 128, 128, -1, 256, 256, 256, -1, 512, 512, 512, -1, 512, 512, 512, -1};

    private final Sequential features, classifier;
    private final AdaptiveAvgPool2d avgpool;
    private final String phi;

    public Vgg16(ModelConfig c) {
        super(c);
        boolean bn = c.arch() == Architecture.VGG16_BN;
        SplittableRandom r = new SplittableRandom(c.seed());
        features = new Sequential();
        boolean adapt = c.layout() == Layout.SMALL;
        int in = c.inChannels(), lastRelu = -1, size = c.inputSize();
        for (int i = 0; i < CFG_D.length; i++) {
            int v = CFG_D[i] < 0 ? CFG_D[i] : c.scaled(CFG_D[i]);
            if (v < 0) {
                if (size < 2) {
                    if (adapt) continue;
                    throw new IllegalArgumentException("VGG-16 with torchvision's five max pools needs inputs of 32 px or more, got "
                            + c.inputSize() + " (the small layout adapts it)");
                }
                features.add(new MaxPool2d(2, 2, 0));
                size /= 2;
                continue;
            }
            features.add(new Conv2d(in, v, 3, 1, 1, true, Conv2d.Init.KAIMING_FAN_OUT, r));
            if (bn) features.add(new BatchNorm2d(v));
            features.add(new ReLU(true));
            lastRelu = features.size() - 1;
            in = v;
        }
        child("features", features);
        phi = "features." + lastRelu;
        boolean full = !adapt || c.inputSize() >= 224;
        int pool = full ? 7 : 1, hidden = c.scaled(full ? 4096 : 512);
        avgpool = child("avgpool", new AdaptiveAvgPool2d(pool, pool));
        Linear.Init head = full ? Linear.Init.NORMAL_001 : Linear.Init.TORCH_DEFAULT;
        classifier = child("classifier", new Sequential(
                new Linear(in * pool * pool, hidden, head, r), new ReLU(true), new Dropout(0.5f),
                new Linear(hidden, hidden, head, r), new ReLU(true), new Dropout(0.5f),
                new Linear(hidden, c.classes(), head, r)));
    }

    @Override
    public String phiLayer() {
        return phi;
    }

    @Override
    protected Tensor logits(Tensor x) {
        x = avgpool.call(features.call(x));
        return classifier.call(Ops.flatten(x));
    }
}
