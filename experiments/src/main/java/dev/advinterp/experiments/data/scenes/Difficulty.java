package dev.advinterp.experiments.data.scenes;

/**
 * How hard the generated scenes are to classify.
 * <ul>
 *   <li>{@link #STANDARD}: one to four distractor bodies, camera noise σ 0.02–0.06 (the dataset of
 *       experiments/DATA.md);</li>
 *   <li>{@link #EASY}: no distractor, noise σ 0.005–0.015, the class's usual scene 70% of the
 *       time (30% in standard) and its object 1.3× larger; the same classes, concepts and masks, so
 *       that small CPU-trained networks learn the classes in a few epochs.</li>
 * </ul>
 */
public enum Difficulty {
    STANDARD("standard", 1, 4, 0.02, 0.06, 0.3, 1.0), EASY("easy", 0, 0, 0.005, 0.015, 0.7, 1.3);

    private final String id;
    final int minDistractors, maxDistractors;
    final double minNoise, maxNoise;
    /** How often the scene is the class's usual one (otherwise uniform over all six). */
    final double usualScene;
    /** The class-deciding thing's size, relative to the standard. */
    final double thingScale;

    Difficulty(String id, int minDistractors, int maxDistractors, double minNoise, double maxNoise, double usualScene, double thingScale) {
        this.id = id;
        this.minDistractors = minDistractors;
        this.maxDistractors = maxDistractors;
        this.minNoise = minNoise;
        this.maxNoise = maxNoise;
        this.usualScene = usualScene;
        this.thingScale = thingScale;
    }

    public String id() {
        return id;
    }

    public static Difficulty parse(String s) {
        for (Difficulty d : values()) if (d.id.equalsIgnoreCase(s)) return d;
        throw new IllegalArgumentException("--difficulty must be standard or easy, got '" + s + "'");
    }
}
