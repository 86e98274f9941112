package dev.advinterp.experiments.metrics.dissection;

import dev.advinterp.experiments.data.broden.CategoryLabels;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The labels one image carries, each as a pixel mask at the masks' size {@code sh×sw}: the union of
 * its mask channels, or the full image for a whole-image label (a scene). Labels are dense indices
 * of {@link Concepts}; {@code categories} marks the categories the image carries any label of.
 */
public record ImageConcepts(int[] labels, BitMask[] masks, boolean[] categories) {

    /** From a Broden image's concepts (category column → masks of global label numbers and whole-image labels). */
    public static ImageConcepts of(Map<String, CategoryLabels> byColumn, int sh, int sw, Concepts concepts, int[] indexByNumber) {
        Map<Integer, BitMask> masks = new LinkedHashMap<>();
        for (CategoryLabels cl : byColumn.values()) {
            for (int[] m : cl.masks()) {
                for (int p = 0; p < m.length; p++) {
                    int n = m[p];
                    if (n <= 0 || n >= indexByNumber.length || indexByNumber[n] < 0) continue;
                    masks.computeIfAbsent(indexByNumber[n], k -> new BitMask(sh * sw)).set(p);
                }
            }
            for (int n : cl.imageLabels()) {
                if (n <= 0 || n >= indexByNumber.length || indexByNumber[n] < 0) continue;
                masks.computeIfAbsent(indexByNumber[n], k -> new BitMask(sh * sw)).fill();
            }
        }
        int[] labels = new int[masks.size()];
        BitMask[] ms = new BitMask[masks.size()];
        boolean[] cats = new boolean[concepts.categories().size()];
        int i = 0;
        for (var e : masks.entrySet()) {
            labels[i] = e.getKey();
            ms[i] = e.getValue();
            cats[concepts.primary()[e.getKey()]] = true;
            i++;
        }
        return new ImageConcepts(labels, ms, cats);
    }

    /** The labels present, as a list, for tests and messages. */
    public List<Integer> labelList() {
        List<Integer> l = new ArrayList<>();
        for (int x : labels) l.add(x);
        return l;
    }
}
