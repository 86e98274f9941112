package dev.advinterp.experiments.data.broden;

import java.util.Map;

/**
 * One decoded image of a Broden dataset: its index row, its pixels as RGB floats in [0, 1]
 * ({@code [3, ih, iw]} row-major), and per category of the index its masks and whole-image labels.
 */
public record BrodenImage(BrodenEntry entry, float[] pixels, Map<String, CategoryLabels> concepts) {
    public BrodenImage {
        concepts = Map.copyOf(concepts);
    }
}
