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

    /** The configuration as strings, for the metadata of weight files (see {@link #fromMetadata}). */
    public java.util.Map<String, String> toMetadata() {
        return java.util.Map.of("arch", arch.id(), "in_channels", Integer.toString(inChannels), "input_size", Integer.toString(inputSize),
                "classes", Integer.toString(classes), "mean", join(mean), "std", join(std), "seed", Long.toString(seed));
    }

    /** Reads {@link #toMetadata()}; a missing or malformed entry is a clear error naming it. */
    public static ModelConfig fromMetadata(java.util.Map<String, String> m, String source) {
        try {
            return new ModelConfig(Architecture.parse(require(m, "arch", source)), Integer.parseInt(require(m, "in_channels", source)),
                    Integer.parseInt(require(m, "input_size", source)), Integer.parseInt(require(m, "classes", source)),
                    split(require(m, "mean", source)), split(require(m, "std", source)), Long.parseLong(m.getOrDefault("seed", "0")));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(source + ": malformed model configuration in the metadata (" + e.getMessage() + ")");
        }
    }

    private static String require(java.util.Map<String, String> m, String key, String source) {
        String v = m.get(key);
        if (v == null) {
            throw new IllegalArgumentException(source + " does not say which model it holds (no '" + key
                    + "' in its metadata); it was not written by advinterp train");
        }
        return v;
    }

    private static String join(float[] v) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < v.length; i++) sb.append(i == 0 ? "" : ",").append(v[i]);
        return sb.toString();
    }

    private static float[] split(String s) {
        String[] p = s.split(",");
        float[] v = new float[p.length];
        for (int i = 0; i < p.length; i++) v[i] = Float.parseFloat(p[i].trim());
        return v;
    }

    @Override
    public String toString() {
        return arch.id() + " " + inChannels + "×" + inputSize + "×" + inputSize + ", " + classes + " classes";
    }
}
