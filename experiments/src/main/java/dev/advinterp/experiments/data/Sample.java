package dev.advinterp.experiments.data;

/**
 * One image {@code [c, h, w]} (row-major floats in [0, 1]) and its class index; or, for an
 * evaluation read of a file that cannot be decoded, a stand-in of zeros marked {@code unreadable}
 * with the reason, which evaluations, attacks and measurements leave out and count.
 *
 * @param unreadable null for an image that was read; otherwise why it could not be
 */
public record Sample(float[] image, int label, int c, int h, int w, String unreadable) {
    public Sample {
        if (image.length != c * h * w) {
            throw new IllegalArgumentException("an image of " + c + "×" + h + "×" + w + " needs " + (c * h * w) + " values, got " + image.length);
        }
    }

    /** An image that was read. */
    public Sample(float[] image, int label, int c, int h, int w) {
        this(image, label, c, h, w, null);
    }

    /** The stand-in for an image that could not be read. */
    public static Sample unreadable(int label, int c, int h, int w, String why) {
        return new Sample(new float[c * h * w], label, c, h, w, why == null ? "unreadable" : why);
    }

    public boolean readable() {
        return unreadable == null;
    }
}
