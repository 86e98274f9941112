package dev.advinterp.experiments.attacks;

/** Images live in [0, 1] in every channel. */
public final class Bounds {
    public static final float[] LO = {0f}, HI = {1f};

    private Bounds() {
    }
}
