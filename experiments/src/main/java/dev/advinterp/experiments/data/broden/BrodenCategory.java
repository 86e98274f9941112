package dev.advinterp.experiments.data.broden;

/**
 * One row of {@code category.csv}: a concept category (color, object, part, material, scene,
 * texture) with the range of global label numbers it spans, how many labels it has and in how many
 * images it labels anything.
 */
public record BrodenCategory(String name, int first, int last, int count, int frequency) {
}
