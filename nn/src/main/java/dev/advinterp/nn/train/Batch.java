package dev.advinterp.nn.train;

import dev.advinterp.engine.Tensor;

/**
 * A batch of images {@code [n, c, h, w]} in [0, 1] (row-major floats) with their labels. In an
 * evaluation batch an image whose file could not be read is a stand-in of zeros, marked in
 * {@code unreadable} with the reason (null: every image was read), for the caller to leave out.
 */
public record Batch(float[] images, int[] labels, int n, int c, int h, int w, String[] unreadable) {
    public Batch {
        if (n <= 0 || labels.length != n || images.length != (long) n * c * h * w) {
            throw new IllegalArgumentException("batch of " + n + " images " + c + "×" + h + "×" + w + " needs " + ((long) n * c * h * w)
                    + " values and " + n + " labels, got " + images.length + " and " + labels.length);
        }
        if (unreadable != null && unreadable.length != n) throw new IllegalArgumentException("batch of " + n + " images, " + unreadable.length + " flags");
    }

    /** Every image read. */
    public Batch(float[] images, int[] labels, int n, int c, int h, int w) {
        this(images, labels, n, c, h, w, null);
    }

    public boolean readable(int i) {
        return unreadable == null || unreadable[i] == null;
    }

    /** Why image i could not be read, or null. */
    public String problem(int i) {
        return unreadable == null ? null : unreadable[i];
    }

    /** The batch without its unreadable images (itself when all were read; null when none was). */
    public Batch readableOnly() {
        if (unreadable == null) return this;
        int k = 0;
        for (String u : unreadable) if (u == null) k++;
        if (k == n) return this;
        if (k == 0) return null;
        int per = c * h * w;
        float[] im = new float[k * per];
        int[] lb = new int[k];
        for (int i = 0, j = 0; i < n; i++) {
            if (unreadable[i] != null) continue;
            System.arraycopy(images, i * per, im, j * per, per);
            lb[j++] = labels[i];
        }
        return new Batch(im, lb, k, c, h, w);
    }

    /** The images as a tensor of the current scope. */
    public Tensor tensor() {
        return Tensor.of(images, n, c, h, w);
    }
}
