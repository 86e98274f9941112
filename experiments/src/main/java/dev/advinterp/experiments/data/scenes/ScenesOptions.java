package dev.advinterp.experiments.data.scenes;

/**
 * What to generate: how many images, their side in pixels (even, so masks are exactly half),
 * the seed everything follows from, the fraction of images in the validation split, and how hard
 * the scenes are ({@link Difficulty}).
 */
public record ScenesOptions(int images, int size, long seed, double valFraction, Difficulty difficulty) {
    public static final int MAX_IMAGES = 10_000_000;

    public ScenesOptions {
        if (images < 1 || images > MAX_IMAGES) {
            throw new IllegalArgumentException("the number of images must be in 1.." + MAX_IMAGES + ", got " + images + " (--images)");
        }
        if (size < 32 || size > 512 || size % 2 != 0) {
            throw new IllegalArgumentException("the image size must be even and in 32..512 (masks are half of it), got " + size + " (--size)");
        }
        if (!(valFraction >= 0 && valFraction < 1)) {
            throw new IllegalArgumentException("the validation fraction must be in [0, 1), got " + valFraction + " (--val-fraction)");
        }
        if (difficulty == null) difficulty = Difficulty.STANDARD;
    }

    /** The standard difficulty. */
    public ScenesOptions(int images, int size, long seed, double valFraction) {
        this(images, size, seed, valFraction, Difficulty.STANDARD);
    }

    /** 5000 images of 64×64, seed 1, a fifth for validation. */
    public static ScenesOptions defaults() {
        return new ScenesOptions(5000, 64, 1, 0.2);
    }
}
