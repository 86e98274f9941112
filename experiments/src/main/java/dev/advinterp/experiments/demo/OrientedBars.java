package dev.advinterp.experiments.demo;

import java.util.SplittableRandom;

/**
 * A synthetic image problem for the engine's end-to-end demo: grey {@code size×size} images, each
 * holding one bright bar in one of four orientations (the class: horizontal, vertical, diagonal,
 * anti-diagonal) at a random place and length, over noise. A linear model on raw pixels does
 * poorly because the bar can be anywhere; a small CNN with pooling learns it in a few hundred
 * steps. Images are in [0, 1]; everything follows from the seed.
 */
public final class OrientedBars {
    public static final int CLASSES = 4;
    public static final String[] CLASS_NAMES = {"horizontal", "vertical", "diagonal", "anti-diagonal"};

    private OrientedBars() {
    }

    /** A batch: images {@code [n, 1, size, size]} flattened row-major, and their labels. */
    public record Batch(float[] images, int[] labels, int n, int size) {
    }

    public static Batch generate(int n, int size, long seed) {
        if (n <= 0 || size < 8) throw new IllegalArgumentException("OrientedBars: need n > 0 and size >= 8, got n=" + n + ", size=" + size);
        SplittableRandom r = new SplittableRandom(seed);
        float[] img = new float[n * size * size];
        int[] labels = new int[n];
        int[][] dirs = {{0, 1}, {1, 0}, {1, 1}, {1, -1}};
        for (int i = 0; i < n; i++) {
            int cls = r.nextInt(CLASSES);
            labels[i] = cls;
            int base = i * size * size;
            for (int p = 0; p < size * size; p++) img[base + p] = (float) (0.25 + 0.15 * (r.nextDouble() * 2 - 1));
            int len = size / 2 + r.nextInt(size / 4);
            int dy = dirs[cls][0], dx = dirs[cls][1];
            // a start point that keeps the whole bar inside the image
            int y0 = dy == 0 ? r.nextInt(size) : r.nextInt(size - len + 1);
            int x0 = dx == 0 ? r.nextInt(size) : dx > 0 ? r.nextInt(size - len + 1) : len - 1 + r.nextInt(size - len + 1);
            float intensity = (float) (0.7 + 0.3 * r.nextDouble());
            for (int t = 0; t < len; t++) {
                int y = y0 + dy * t, x = x0 + dx * t;
                img[base + y * size + x] = intensity;
            }
        }
        for (int p = 0; p < img.length; p++) img[p] = Math.min(1f, Math.max(0f, img[p]));
        return new Batch(img, labels, n, size);
    }
}
