package dev.advinterp.experiments.metrics.dissection;

import dev.advinterp.experiments.data.broden.BrodenCode;
import dev.advinterp.experiments.data.broden.BrodenDataset;
import dev.advinterp.experiments.data.broden.BrodenLabel;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The labels a dissection scores units against, densely indexed 0..L−1, each with its primary
 * category. A label may appear in several categories (Broden lists "wheel" as an object and a part);
 * as NetDissect assigns it, its primary category is the one in which it covers the most pixels
 * (the {@code coverage} of {@code c_<category>.csv}), the first listed on a tie. Label number 0
 * ("unlabelled") is never a label here.
 *
 * @param categories the category names, in category.csv order
 * @param numbers    each label's global number (label.csv)
 * @param names      each label's name
 * @param primary    each label's primary category, an index into {@code categories}
 */
public record Concepts(List<String> categories, int[] numbers, List<String> names, int[] primary) {

    public static Concepts of(BrodenDataset broden) {
        List<String> cats = broden.categories().stream().map(c -> c.name()).toList();
        Map<Integer, double[]> coverage = new HashMap<>();
        for (int c = 0; c < cats.size(); c++) {
            for (BrodenCode code : broden.codes(cats.get(c))) {
                if (code.number() == 0) continue;
                coverage.computeIfAbsent(code.number(), k -> new double[cats.size()])[c] = Math.max(code.coverage(), 1e-300);
            }
        }
        List<Integer> numbers = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<Integer> primary = new ArrayList<>();
        for (BrodenLabel l : broden.labels().values()) {
            if (l.number() == 0) continue;
            double[] cov = coverage.get(l.number());
            int best = -1;
            if (cov != null) {
                for (int c = 0; c < cov.length; c++) if (cov[c] > 0 && (best < 0 || cov[c] > cov[best])) best = c;
            } else {
                // Not in any c_*.csv: the category label.csv gives it the most images in.
                int most = -1;
                for (int c = 0; c < cats.size(); c++) {
                    Integer n = l.categories().get(cats.get(c));
                    if (n != null && n > most) {
                        most = n;
                        best = c;
                    }
                }
            }
            if (best < 0) continue; // a label of no category cannot be scored
            numbers.add(l.number());
            names.add(l.name());
            primary.add(best);
        }
        return new Concepts(cats, numbers.stream().mapToInt(Integer::intValue).toArray(), List.copyOf(names),
                primary.stream().mapToInt(Integer::intValue).toArray());
    }

    public int size() {
        return numbers.length;
    }

    /** Label number → dense index (−1 for a number that is not a scored label). */
    public int[] indexByNumber() {
        int max = 0;
        for (int n : numbers) max = Math.max(max, n);
        int[] idx = new int[max + 1];
        java.util.Arrays.fill(idx, -1);
        for (int i = 0; i < numbers.length; i++) idx[numbers[i]] = i;
        return idx;
    }
}
