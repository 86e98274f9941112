package dev.advinterp.experiments.data.broden;

/**
 * An image-level class of a Broden folder that carries one ({@code classes.csv}, our addition to
 * the format): its index as a label, its WordNet 3.0 noun synset id ({@code n} and the 8-digit
 * offset, as ImageNet names classes) and a readable name.
 */
public record BrodenClass(int index, String wnid, String name) {
}
