package dev.advinterp.experiments.data.broden;

import java.util.List;
import java.util.Map;

/**
 * One row of {@code label.csv}: a concept with its global number (the value in mask pixels and
 * whole-image entries), the categories it belongs to with its image count in each (written
 * {@code color(12);object(3)} on disk), the number of images it appears in, its pixel coverage in
 * units of whole images, and its synonyms.
 */
public record BrodenLabel(int number, String name, Map<String, Integer> categories, int frequency, double coverage,
                          List<String> synonyms) {
    public BrodenLabel {
        categories = Map.copyOf(categories);
        synonyms = List.copyOf(synonyms);
    }
}
