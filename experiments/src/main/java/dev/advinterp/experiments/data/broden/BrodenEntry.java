package dev.advinterp.experiments.data.broden;

import java.util.List;
import java.util.Map;

/**
 * One row of {@code index.csv}: an image (path relative to {@code images/}), its split, its size
 * {@code ih×iw}, the size {@code sh×sw} of its masks, and per category the mask PNGs (also relative
 * to {@code images/}) and the whole-image label numbers given for it. Every category column of the
 * index is a key of both maps, with empty lists where the image has nothing in that category.
 *
 * @param line the line of {@code index.csv} the row starts on, for messages
 */
public record BrodenEntry(int index, int line, String image, String split, int ih, int iw, int sh, int sw,
                          Map<String, List<String>> masks, Map<String, List<Integer>> imageLabels) {
    public BrodenEntry {
        masks = Map.copyOf(masks);
        imageLabels = Map.copyOf(imageLabels);
    }

    /** Whether the image has any mask or whole-image label in {@code category}. */
    public boolean has(String category) {
        return !masks.getOrDefault(category, List.of()).isEmpty() || !imageLabels.getOrDefault(category, List.of()).isEmpty();
    }
}
