package dev.advinterp.nn.models;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.Module;
import dev.advinterp.nn.layers.AdaptiveAvgPool2d;
import dev.advinterp.nn.layers.BatchNorm2d;
import dev.advinterp.nn.layers.Conv2d;
import dev.advinterp.nn.layers.Identity;
import dev.advinterp.nn.layers.Linear;
import dev.advinterp.nn.layers.MaxPool2d;
import dev.advinterp.nn.layers.ReLU;
import dev.advinterp.nn.layers.Sequential;

import java.util.SplittableRandom;

/**
 * ResNet-18 as torchvision builds it (BasicBlocks [2, 2, 2, 2]). Small-input adaptation
 * ({@link Layout#SMALL}, inputs of 64×64 and below), the usual one for CIFAR-sized images: the stem
 * is a 3×3 stride-1 convolution and the max pool is left out (an identity), so layer4 sees 4×4 maps
 * at 32×32 instead of 1×1; the state-dict keys are unchanged (conv1.weight becomes [64, c, 3, 3]).
 * The width multiplier scales the 64/128/256/512 channels of the four stages. φ is {@code layer4}.
 */
public final class ResNet18 extends ImageModel {
    private final Conv2d conv1;
    private final BatchNorm2d bn1;
    private final ReLU relu;
    private final Module maxpool;
    private final Sequential layer1, layer2, layer3, layer4;
    private final AdaptiveAvgPool2d avgpool;
    private final Linear fc;

    public ResNet18(ModelConfig c) {
        super(c);
        SplittableRandom r = new SplittableRandom(c.seed());
        boolean small = c.layout() == Layout.SMALL && c.inputSize() <= 64;
        int w1 = c.scaled(64), w2 = c.scaled(128), w3 = c.scaled(256), w4 = c.scaled(512);
        conv1 = child("conv1", small ? BasicBlock.conv(c.inChannels(), w1, 3, 1, 1, r) : BasicBlock.conv(c.inChannels(), w1, 7, 2, 3, r));
        bn1 = child("bn1", new BatchNorm2d(w1));
        relu = child("relu", new ReLU(true));
        maxpool = child("maxpool", small ? new Identity() : new MaxPool2d(3, 2, 1));
        layer1 = child("layer1", new Sequential(new BasicBlock(w1, w1, 1, r), new BasicBlock(w1, w1, 1, r)));
        layer2 = child("layer2", new Sequential(new BasicBlock(w1, w2, 2, r), new BasicBlock(w2, w2, 1, r)));
        layer3 = child("layer3", new Sequential(new BasicBlock(w2, w3, 2, r), new BasicBlock(w3, w3, 1, r)));
        layer4 = child("layer4", new Sequential(new BasicBlock(w3, w4, 2, r), new BasicBlock(w4, w4, 1, r)));
        avgpool = child("avgpool", new AdaptiveAvgPool2d(1, 1));
        fc = child("fc", new Linear(w4, c.classes(), r));
    }

    @Override
    public String phiLayer() {
        return "layer4";
    }

    @Override
    protected Tensor logits(Tensor x) {
        x = maxpool.call(relu.call(bn1.call(conv1.call(x))));
        x = layer4.call(layer3.call(layer2.call(layer1.call(x))));
        return fc.call(Ops.flatten(avgpool.call(x)));
    }
}
