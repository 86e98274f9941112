package dev.advinterp.nn.golden;

import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.Module;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * The closed-form weights and inputs of the full-size golden fixtures, bit for bit what
 * tools/fixtures/make_model_fixtures.py computes (its docstring states the formula): the
 * full-size models are far too large to commit, so both sides compute the same values instead.
 * Everything is integer arithmetic followed by single float32 operations, which Java and numpy
 * round identically.
 */
final class GoldenWeights {
    private static final int CHUNK = 1 << 16;

    private GoldenWeights() {
    }

    /** MurmurHash3's 32-bit finaliser. */
    static int fmix32(int x) {
        x ^= x >>> 16;
        x *= 0x85EBCA6B;
        x ^= x >>> 13;
        x *= 0xC2B2AE35;
        x ^= x >>> 16;
        return x;
    }

    /** n values in [−1, 1), element i a hash of (name, i); exact in float32. */
    static float[] unit(String name, int n) {
        int key = fmix32(name.hashCode());
        float[] u = new float[n];
        // the full-size VGG-16 has 138 M weights: worth the cores
        IntStream.range(0, (n + CHUNK - 1) / CHUNK).parallel().forEach(chunk -> {
            for (int i = chunk * CHUNK, end = Math.min(n, i + CHUNK); i < end; i++) {
                int x = fmix32(i * 0x9E3779B1 + key);
                u[i] = ((x >>> 8) - (1 << 23)) * 0x1p-23f;
            }
        });
        return u;
    }

    /** The formula's values for state-dict entry {@code name} of the given shape. */
    static float[] values(String name, int[] shape) {
        int n = 1;
        for (int d : shape) n = Math.multiplyExact(n, d);
        float[] u = unit(name, n);
        if (shape.length >= 2) {
            float scale = (float) Math.sqrt(6.0 / (n / shape[0]));
            for (int i = 0; i < n; i++) u[i] = scale * u[i];
            return u;
        }
        String leaf = name.substring(name.lastIndexOf('.') + 1);
        float base, mul;
        switch (leaf) {
            case "bias", "running_mean" -> {
                for (int i = 0; i < n; i++) u[i] = 0.1f * u[i];
                return u;
            }
            case "running_var" -> {
                base = 1f;
                mul = 0.5f;
            }
            case "weight" -> { // batch norm; a smaller scale where a residual branch ends
                base = name.endsWith(".bn2.weight") || name.endsWith(".downsample.1.weight") ? 0.5f : 1f;
                mul = 0.1f;
            }
            default -> throw new IllegalArgumentException("no formula for " + name);
        }
        for (int i = 0; i < n; i++) u[i] = base + mul * u[i];
        return u;
    }

    /** Images in [0, 1): {@code (unit("input") + 1) · 0.5}. */
    static float[] input(int n, int c, int size) {
        float[] u = unit("input", n * c * size * size);
        for (int i = 0; i < u.length; i++) u[i] = (u[i] + 1f) * 0.5f;
        return u;
    }

    /**
     * Fills every parameter and buffer of the model with the formula; returns, by name, the
     * values at the first {@code checked} indices of {@link Golden#sampleIndex}.
     */
    static Map<String, float[]> fill(Module model, int checked) {
        LinkedHashMap<String, Tensor> all = model.namedParameters();
        all.putAll(model.namedBuffers());
        LinkedHashMap<String, float[]> out = new LinkedHashMap<>();
        for (var e : all.entrySet()) {
            int[] dims = e.getValue().shape().dims();
            float[] v = values(e.getKey(), dims);
            try (Scope s = Scope.open()) {
                e.getValue().copyFrom(Tensor.of(v, dims));
            }
            out.put(e.getKey(), Golden.sample(v, checked));
        }
        return out;
    }
}
