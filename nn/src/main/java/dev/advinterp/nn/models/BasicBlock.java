package dev.advinterp.nn.models;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.Module;
import dev.advinterp.nn.layers.BatchNorm2d;
import dev.advinterp.nn.layers.Conv2d;
import dev.advinterp.nn.layers.ReLU;
import dev.advinterp.nn.layers.Sequential;

import java.util.SplittableRandom;

/**
 * ResNet's basic block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), the shortcut a
 * 1×1 convolution and batch norm ({@code downsample.0}, {@code downsample.1}) when the stride or
 * the width changes.
 */
public final class BasicBlock extends Module {
    private final Conv2d conv1, conv2;
    private final BatchNorm2d bn1, bn2;
    private final ReLU relu;
    private final Sequential downsample;

    public BasicBlock(int in, int out, int stride, SplittableRandom r) {
        conv1 = child("conv1", conv(in, out, 3, stride, 1, r));
        bn1 = child("bn1", new BatchNorm2d(out));
        relu = child("relu", new ReLU(true));
        conv2 = child("conv2", conv(out, out, 3, 1, 1, r));
        bn2 = child("bn2", new BatchNorm2d(out));
        downsample = stride != 1 || in != out
                ? child("downsample", new Sequential(conv(in, out, 1, stride, 0, r), new BatchNorm2d(out)))
                : null;
    }

    /** torchvision's ResNet convolution: no bias, Kaiming normal (fan-out, ReLU). */
    static Conv2d conv(int in, int out, int k, int stride, int pad, SplittableRandom r) {
        return new Conv2d(in, out, k, stride, pad, false, Conv2d.Init.KAIMING_FAN_OUT, r);
    }

    @Override
    protected Tensor forward(Tensor x) {
        Tensor out = relu.call(bn1.call(conv1.call(x)));
        out = bn2.call(conv2.call(out));
        Tensor identity = downsample == null ? x : downsample.call(x);
        return relu.call(Ops.add(out, identity));
    }
}
