package dev.advinterp.experiments.data.broden;

/**
 * One row of {@code c_<category>.csv}: the dense per-category code of a global label number, so a
 * category's labels can be indexed 1..count (0 stays "unlabelled").
 */
public record BrodenCode(String category, int code, int number, String name, int frequency, double coverage) {
}
