package dev.advinterp.experiments.metrics.consistency;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.StringJoiner;

/**
 * The consistency of one unit (neuron) of the layer: on real images, {@code consis(n) = pᵀAp} with
 * p the class histogram of the images that activate the unit (Eq. 3), and on their adversarial
 * versions, {@code consis_adv(n)}. NaN where fewer images than the minimum activate it
 * (undefined: too few to estimate p).
 *
 * @param threshold         the unit's activation threshold T (from the real images)
 * @param realClassCounts   per class, how many real images activate the unit
 * @param adversarialClassCounts per class, how many adversarial images activate it (labelled with their clean image's class)
 */
public record UnitConsistency(int unit, float threshold, int realCount, int adversarialCount, double consis, double consisAdv,
                              int[] realClassCounts, int[] adversarialClassCounts) {

    public boolean realDefined() {
        return !Double.isNaN(consis);
    }

    public boolean adversarialDefined() {
        return !Double.isNaN(consisAdv);
    }

    public static final List<String> CSV_HEADER = List.of("unit", "threshold", "real_images", "adversarial_images", "consis", "consis_adv",
            "real_class_counts", "adversarial_class_counts");

    /** A row of units.csv; class counts as {@code class:count} pairs separated by {@code ;}, zeros left out. */
    public List<Object> csv() {
        List<Object> row = new ArrayList<>();
        row.add(unit);
        row.add(Float.toString(threshold));
        row.add(realCount);
        row.add(adversarialCount);
        row.add(number(consis));
        row.add(number(consisAdv));
        row.add(counts(realClassCounts));
        row.add(counts(adversarialClassCounts));
        return row;
    }

    private static String number(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6f", v);
    }

    static String counts(int[] perClass) {
        StringJoiner j = new StringJoiner(";");
        for (int c = 0; c < perClass.length; c++) if (perClass[c] > 0) j.add(c + ":" + perClass[c]);
        return j.toString();
    }
}
