package dev.advinterp.experiments.metrics.dissection;

/**
 * What dissection found for one unit: its best label over all categories (−1 if there are no
 * labels) with the IoU, and the best label of each category with the counts behind its IoU, as
 * NetDissect's tally lists them.
 *
 * @param bestInCategory  per category, the dense index of the unit's best label there (−1 if the category has none)
 * @param categoryIou     per category, that label's IoU
 * @param intersection    per category, the pixels where the unit and that label overlap
 * @param activation      per category, the unit's active pixels over the images carrying the category
 * @param truth           per category, that label's pixels
 */
public record UnitDissection(int unit, int label, double iou, int[] bestInCategory, double[] categoryIou, long[] intersection,
                             long[] activation, long[] truth) {

    /** Whether the unit detects its best label: IoU at or above the threshold (NetDissect: 0.04). */
    public boolean aligned(double threshold) {
        return label >= 0 && iou >= threshold;
    }
}
