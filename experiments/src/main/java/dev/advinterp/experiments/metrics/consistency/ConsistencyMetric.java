package dev.advinterp.experiments.metrics.consistency;

import java.util.List;
import java.util.stream.IntStream;

/**
 * The paper's consistency of a layer's units (Eqs. 1–3). For unit n: the real images that
 * activate it ({@link ActivationRule}) give p, the histogram of their classes normalised to sum 1
 * (Eq. 1: p_i = Pr(class c_i | x activates n)); A_ij = exp(−d²(w_i, w_j)/(2σ²)) with d the WordNet
 * distance of the classes (Eq. 2); and {@code consis(n) = pᵀAp} (Eq. 3), between 0 and 1: 1 when
 * every activating image is of one class, lower the farther apart in WordNet their classes are.
 * {@code consis_adv(n)} is the same on the adversarial versions of the images, each labelled with
 * its clean image's class and held to the real images' threshold. A unit activated by fewer than
 * {@code minImages} images is undefined (NaN) on that set and left out of the means.
 *
 * <p>Input: per image its label and each unit's per-image maximum (row-major [image, unit]), real
 * and adversarial; nothing else of the images. Units are measured in parallel.
 */
public final class ConsistencyMetric {
    private final double[] similarity;
    private final int classes;
    private final ActivationRule rule;
    private final int minImages;

    /**
     * @param similarity A, row-major {@code classes × classes}
     * @param minImages  the fewest activating images for a defined value (≥ 1)
     */
    public ConsistencyMetric(double[] similarity, int classes, ActivationRule rule, int minImages) {
        if (similarity.length != (long) classes * classes) {
            throw new IllegalArgumentException("the similarity matrix has " + similarity.length + " entries, " + classes + " classes need "
                    + (long) classes * classes);
        }
        if (minImages < 1) throw new IllegalArgumentException("--min-images must be at least 1, got " + minImages);
        this.similarity = similarity;
        this.classes = classes;
        this.rule = rule;
        this.minImages = minImages;
    }

    /** Every unit's consistency. */
    public List<UnitConsistency> measure(int[] labels, float[] real, float[] adversarial, int units) {
        int n = labels.length;
        if (real.length != (long) n * units || adversarial.length != (long) n * units) {
            throw new IllegalArgumentException("consistency: " + n + " images of " + units + " units need " + (long) n * units
                    + " values per set, got " + real.length + " and " + adversarial.length);
        }
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException("consistency: image " + i + " has label " + labels[i] + ", outside the " + classes + " classes");
            }
        }
        return IntStream.range(0, units).parallel().mapToObj(u -> unit(u, labels, real, adversarial, units)).toList();
    }

    private UnitConsistency unit(int u, int[] labels, float[] real, float[] adversarial, int units) {
        int n = labels.length;
        float[] column = new float[n];
        for (int i = 0; i < n; i++) column[i] = real[i * units + u];
        float t = rule.threshold(column);
        int[] rc = new int[classes], ac = new int[classes];
        int rn = 0, an = 0;
        for (int i = 0; i < n; i++) {
            if (column[i] > t) {
                rc[labels[i]]++;
                rn++;
            }
            if (adversarial[i * units + u] > t) {
                ac[labels[i]]++;
                an++;
            }
        }
        return new UnitConsistency(u, t, rn, an, rn >= minImages ? quadratic(rc, rn) : Double.NaN,
                an >= minImages ? quadratic(ac, an) : Double.NaN, rc, ac);
    }

    /** pᵀAp for p = counts / total, over the classes that occur. */
    double quadratic(int[] counts, int total) {
        int[] nz = IntStream.range(0, classes).filter(c -> counts[c] > 0).toArray();
        double s = 0;
        for (int i : nz) {
            double pi = (double) counts[i] / total;
            for (int j : nz) s += pi * similarity[i * classes + j] * counts[j] / total;
        }
        return s;
    }
}
