package dev.advinterp.nn.train;

import dev.advinterp.engine.Tensor;

/** A batch of images {@code [n, c, h, w]} in [0, 1] (row-major floats) with their labels. */
public record Batch(float[] images, int[] labels, int n, int c, int h, int w) {
    public Batch {
        if (n <= 0 || labels.length != n || images.length != (long) n * c * h * w) {
            throw new IllegalArgumentException("batch of " + n + " images " + c + "×" + h + "×" + w + " needs " + ((long) n * c * h * w)
                    + " values and " + n + " labels, got " + images.length + " and " + labels.length);
        }
    }

    /** The images as a tensor of the current scope. */
    public Tensor tensor() {
        return Tensor.of(images, n, c, h, w);
    }
}
