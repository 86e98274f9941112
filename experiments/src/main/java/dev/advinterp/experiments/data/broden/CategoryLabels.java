package dev.advinterp.experiments.data.broden;

import java.util.List;

/**
 * What one image holds in one category: pixel masks of {@code sh×sw} global label numbers
 * (row-major, 0 = unlabelled), and labels that cover the whole image. NetDissect stacks both as
 * channels of the same size; a whole-image label is a mask filled with that number.
 */
public record CategoryLabels(List<int[]> masks, List<Integer> imageLabels) {
    public CategoryLabels {
        masks = List.copyOf(masks);
        imageLabels = List.copyOf(imageLabels);
    }

    public boolean isEmpty() {
        return masks.isEmpty() && imageLabels.isEmpty();
    }

    /** Whether pixel {@code p} (row-major at the mask size) carries {@code label} in any channel. */
    public boolean labels(int p, int label) {
        if (imageLabels.contains(label)) return true;
        for (int[] m : masks) {
            if (m[p] == label) return true;
        }
        return false;
    }
}
