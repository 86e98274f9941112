package dev.advinterp.experiments.attacks;

/**
 * Perturbation sizes in pixel units, as the paper gives them: images live in [0, 1] and one unit
 * is 1/255 of that range, one grey level of an 8-bit image (the paper's FGSM ε = 1). Every ε,
 * step and distance crosses between the two scales here and nowhere else.
 */
public final class PixelUnits {
    /** Grey levels of an 8-bit image: the range [0, 1] spans this many units. */
    public static final float LEVELS = 255f;

    private PixelUnits() {
    }

    /** A size in pixel units as a size in the image range [0, 1]. */
    public static float toRange(float pixels) {
        return pixels / LEVELS;
    }

    /** A size (difference, norm) in the image range as pixel units. */
    public static double toPixels(double range) {
        return range * LEVELS;
    }
}
