package dev.advinterp.experiments.data;

/** One image {@code [c, h, w]} (row-major floats in [0, 1]) and its class index. */
public record Sample(float[] image, int label, int c, int h, int w) {
    public Sample {
        if (image.length != c * h * w) {
            throw new IllegalArgumentException("an image of " + c + "×" + h + "×" + w + " needs " + (c * h * w) + " values, got " + image.length);
        }
    }
}
