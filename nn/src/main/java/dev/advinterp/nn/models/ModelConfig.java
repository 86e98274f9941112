package dev.advinterp.nn.models;

import dev.advinterp.nn.layers.Normalize;

import java.util.Arrays;

/**
 * What a model is built for: architecture, input channels and size (square), class count, the
 * per-channel normalisation of its first layer, and the seed of its initialisation. At 224×224
 * the architectures are exactly torchvision's; below, each class documents its adaptations.
 */
public record ModelConfig(Architecture arch, int inChannels, int inputSize, int classes, float[] mean, float[] std, long seed) {

    public ModelConfig {
        if (inChannels <= 0 || classes <= 0) {
            throw new IllegalArgumentException("model config: channels and classes must be positive, got " + inChannels + ", " + classes);
        }
        if (inputSize < 28) throw new IllegalArgumentException("model config: input size " + inputSize + " is below the smallest supported, 28");
        if (mean.length != inChannels || std.length != inChannels) {
            throw new IllegalArgumentException("model config: " + inChannels + " input channels need as many means and stds, got "
                    + mean.length + " and " + std.length);
        }
        mean = mean.clone();
        std = std.clone();
    }

    /** torchvision's layout: 3×224×224 ImageNet images, 1000 classes, ImageNet statistics. */
    public static ModelConfig imagenet(Architecture arch, long seed) {
        return new ModelConfig(arch, 3, 224, 1000, Normalize.IMAGENET_MEAN, Normalize.IMAGENET_STD, seed);
    }

    /** A small-input configuration with normalisation mean 0.5 and std 0.25 per channel unless given. */
    public static ModelConfig small(Architecture arch, int inChannels, int inputSize, int classes, long seed) {
        float[] m = new float[inChannels], s = new float[inChannels];
        Arrays.fill(m, 0.5f);
        Arrays.fill(s, 0.25f);
        return new ModelConfig(arch, inChannels, inputSize, classes, m, s, seed);
    }

    public ModelConfig withNormalization(float[] mean, float[] std) {
        return new ModelConfig(arch, inChannels, inputSize, classes, mean, std, seed);
    }

    public ModelConfig withSeed(long s) {
        return new ModelConfig(arch, inChannels, inputSize, classes, mean, std, s);
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    @Override
    public String toString() {
        return arch.id() + " " + inChannels + "×" + inputSize + "×" + inputSize + ", " + classes + " classes";
    }
}
