package dev.advinterp.nn.models;

import dev.advinterp.nn.layers.Normalize;

import java.util.Arrays;

/**
 * What a model is built for: architecture, input channels and size (square), class count, the
 * per-channel normalisation of its first layer, the seed of its initialisation, the layout of its
 * layers ({@link Layout}: torchvision's, or the small-input adaptations each model documents) and
 * a width multiplier of every layer's channels and hidden units (1: the published networks; below
 * 1, thinner networks for CPU-sized experiments, the state-dict keys unchanged).
 */
public record ModelConfig(Architecture arch, int inChannels, int inputSize, int classes, float[] mean, float[] std, long seed,
                          Layout layout, float width) {
    /** Limits that keep a configuration read from a file from asking for absurd allocations. */
    public static final int MAX_INPUT_SIZE = 4096, MAX_CLASSES = 100_000, MAX_CHANNELS = 64;
    public static final float MAX_WIDTH = 4f;

    public ModelConfig {
        if (inChannels <= 0 || classes <= 0) {
            throw new IllegalArgumentException("model config: channels and classes must be positive, got " + inChannels + ", " + classes);
        }
        if (inChannels > MAX_CHANNELS || classes > MAX_CLASSES || inputSize > MAX_INPUT_SIZE) {
            throw new IllegalArgumentException("model config: " + inChannels + " channels, " + classes + " classes, " + inputSize
                    + " px is beyond the supported limits (" + MAX_CHANNELS + " channels, " + MAX_CLASSES + " classes, " + MAX_INPUT_SIZE + " px)");
        }
        if (inputSize < 28) throw new IllegalArgumentException("model config: input size " + inputSize + " is below the smallest supported, 28");
        if (mean.length != inChannels || std.length != inChannels) {
            throw new IllegalArgumentException("model config: " + inChannels + " input channels need as many means and stds, got "
                    + mean.length + " and " + std.length);
        }
        if (layout == null) layout = Layout.forSize(inputSize);
        if (!(width > 0 && width <= MAX_WIDTH)) {
            throw new IllegalArgumentException("model config: width multiplier " + width + " is outside (0, " + MAX_WIDTH + "]");
        }
        mean = mean.clone();
        std = std.clone();
    }

    /** The default layout for the size, full width. */
    public ModelConfig(Architecture arch, int inChannels, int inputSize, int classes, float[] mean, float[] std, long seed) {
        this(arch, inChannels, inputSize, classes, mean, std, seed, Layout.forSize(inputSize), 1f);
    }

    /** {@code n} channels scaled by the width multiplier (at least 1). */
    public int scaled(int n) {
        return Math.max(1, Math.round(n * width));
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
        return new ModelConfig(arch, inChannels, inputSize, classes, mean, std, seed, layout, width);
    }

    public ModelConfig withSeed(long s) {
        return new ModelConfig(arch, inChannels, inputSize, classes, mean, std, s, layout, width);
    }

    public ModelConfig withLayout(Layout l) {
        return new ModelConfig(arch, inChannels, inputSize, classes, mean, std, seed, l, width);
    }

    public ModelConfig withWidth(float w) {
        return new ModelConfig(arch, inChannels, inputSize, classes, mean, std, seed, layout, w);
    }

    /** The same at another input size (the layout stays as it is). */
    public ModelConfig withInput(int size) {
        return new ModelConfig(arch, inChannels, size, classes, mean, std, seed, layout, width);
    }

    public ModelConfig withClasses(int n) {
        return new ModelConfig(arch, inChannels, inputSize, n, mean, std, seed, layout, width);
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
        java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
        m.put("arch", arch.id());
        m.put("in_channels", Integer.toString(inChannels));
        m.put("input_size", Integer.toString(inputSize));
        m.put("classes", Integer.toString(classes));
        m.put("mean", join(mean));
        m.put("std", join(std));
        m.put("seed", Long.toString(seed));
        m.put("layout", layout.id());
        m.put("width", Float.toString(width));
        return m;
    }

    /** Reads {@link #toMetadata()}; a missing or malformed entry is a clear error naming it. */
    public static ModelConfig fromMetadata(java.util.Map<String, String> m, String source) {
        String arch = require(m, "arch", source);
        int size = integer(m, "input_size", source), channels = integer(m, "in_channels", source), classes = integer(m, "classes", source);
        float[] mean = floats(m, "mean", source), std = floats(m, "std", source);
        long seed = m.containsKey("seed") ? number(m, "seed", source) : 0;
        float width = m.containsKey("width") ? (float) decimal(m, "width", source) : 1f;
        try {
            return new ModelConfig(Architecture.parse(arch), channels, size, classes, mean, std, seed,
                    m.containsKey("layout") ? Layout.parse(m.get("layout")) : Layout.forSize(size), width);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    private static int integer(java.util.Map<String, String> m, String key, String source) {
        long v = number(m, key, source);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) throw malformed(source, key, m.get(key), "a whole number in int range");
        return (int) v;
    }

    private static long number(java.util.Map<String, String> m, String key, String source) {
        String v = require(m, key, source);
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw malformed(source, key, v, "a whole number");
        }
    }

    private static double decimal(java.util.Map<String, String> m, String key, String source) {
        String v = require(m, key, source);
        try {
            double d = Double.parseDouble(v.trim());
            if (!Double.isFinite(d)) throw new NumberFormatException();
            return d;
        } catch (NumberFormatException e) {
            throw malformed(source, key, v, "a finite number");
        }
    }

    private static float[] floats(java.util.Map<String, String> m, String key, String source) {
        String v = require(m, key, source);
        try {
            float[] f = split(v);
            for (float x : f) if (!Float.isFinite(x)) throw new NumberFormatException();
            return f;
        } catch (NumberFormatException e) {
            throw malformed(source, key, v, "comma-separated finite numbers");
        }
    }

    private static IllegalArgumentException malformed(String source, String key, String value, String expected) {
        String shown = value.length() > 40 ? value.substring(0, 40) + "…" : value;
        return new IllegalArgumentException(source + ": the model configuration's '" + key + "' is '" + shown + "', not " + expected);
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

    /** Architecture, input and classes; the layout and width only where they differ from the defaults. */
    @Override
    public String toString() {
        return arch.id() + (width == 1f ? "" : " (width " + width + ")") + (layout == Layout.forSize(inputSize) ? "" : " (" + layout.id() + " layout)")
                + " " + inChannels + "×" + inputSize + "×" + inputSize + ", " + classes + " classes";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelConfig c && arch == c.arch && inChannels == c.inChannels && inputSize == c.inputSize && classes == c.classes
                && Arrays.equals(mean, c.mean) && Arrays.equals(std, c.std) && seed == c.seed && layout == c.layout && width == c.width;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(arch, inChannels, inputSize, classes, Arrays.hashCode(mean), Arrays.hashCode(std), seed, layout, width);
    }
}
