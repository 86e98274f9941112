package dev.advinterp.experiments.metrics.dissection;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Table 2's row for one image set: the percentage of the layer's units aligned with a concept,
 * per category of the concept (a unit counts for the category of its best label, when that label's
 * IoU reaches the threshold).
 *
 * @param aligned per category (category.csv order), the aligned units
 */
public record Table2Row(String set, int units, double iouThreshold, List<String> categories, int[] aligned) {

    public static Table2Row of(String set, Concepts concepts, List<UnitDissection> units, double iouThreshold) {
        int[] a = new int[concepts.categories().size()];
        for (UnitDissection u : units) if (u.aligned(iouThreshold)) a[concepts.primary()[u.label()]]++;
        return new Table2Row(set, units.size(), iouThreshold, concepts.categories(), a);
    }

    public int totalAligned() {
        int t = 0;
        for (int x : aligned) t += x;
        return t;
    }

    /** Aligned units of a category as a percentage of all units. */
    public double percent(int category) {
        return units == 0 ? Double.NaN : 100.0 * aligned[category] / units;
    }

    public List<String> csvHeader() {
        List<String> h = new ArrayList<>(List.of("set", "units", "aligned"));
        h.addAll(categories);
        return h;
    }

    /** Percentages, two decimals, per category. */
    public List<Object> csv() {
        List<Object> r = new ArrayList<>(List.of(set, units, totalAligned()));
        for (int c = 0; c < categories.size(); c++) r.add(String.format(Locale.ROOT, "%.2f", percent(c)));
        return r;
    }

    public Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("set", set);
        m.put("units", units);
        m.put("iou_threshold", iouThreshold);
        m.put("aligned", totalAligned());
        Map<String, Object> per = new LinkedHashMap<>();
        for (int c = 0; c < categories.size(); c++) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("units", aligned[c]);
            x.put("percent", percent(c));
            per.put(categories.get(c), x);
        }
        m.put("categories", per);
        return m;
    }
}
