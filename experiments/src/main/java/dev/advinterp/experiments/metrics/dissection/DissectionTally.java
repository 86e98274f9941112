package dev.advinterp.experiments.metrics.dissection;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The counts behind the IoU of every (unit, label) pair over an image set, as NetDissect keeps
 * them:
 * <ul>
 *   <li>{@code both[u][l]}: pixels where unit u's thresholded, upsampled map and label l's mask
 *       overlap, summed over the images;</li>
 *   <li>{@code activation[u][c]}: unit u's active pixels summed over the images that carry any
 *       label of category c (the restriction that keeps, say, colour labels from being charged for
 *       images without colour annotations);</li>
 *   <li>{@code truth[l]}: label l's pixels summed over the images;</li>
 * </ul>
 * and {@code IoU(u, l) = both / (activation[u][primary(l)] + truth[l] − both)}. Images are added a
 * batch at a time; the units are split across the cores (each unit's counts belong to one thread).
 */
public final class DissectionTally {
    private final Concepts concepts;
    private final int units, labels, categories;
    private final long[] both, activation, truth;
    private long images;

    public DissectionTally(Concepts concepts, int units) {
        this.concepts = concepts;
        this.units = units;
        this.labels = concepts.size();
        this.categories = concepts.categories().size();
        this.both = new long[units * labels];
        this.activation = new long[units * categories];
        this.truth = new long[labels];
    }

    /** The counts so far, for a checkpoint: both, activation, truth, then the image count. */
    public long[][] state() {
        return new long[][]{both.clone(), activation.clone(), truth.clone(), {images}};
    }

    /** Restores {@link #state()}. */
    public void restore(long[][] s) {
        if (s.length != 4 || s[0].length != both.length || s[1].length != activation.length || s[2].length != truth.length) {
            throw new IllegalArgumentException("a dissection checkpoint of other sizes (units or labels differ)");
        }
        System.arraycopy(s[0], 0, both, 0, both.length);
        System.arraycopy(s[1], 0, activation, 0, activation.length);
        System.arraycopy(s[2], 0, truth, 0, truth.length);
        images = s[3][0];
    }

    public long images() {
        return images;
    }

    /**
     * Adds a batch: the layer's maps {@code [n, units, h, w]} (row-major) of the images, each
     * image's labels at mask size {@code sh×sw}, and each unit's threshold. A null entry in
     * {@code concepts} is an image that could not be read: it is left out.
     */
    public void add(float[] maps, int n, int h, int w, List<ImageConcepts> images, int sh, int sw, float[] thresholds) {
        if (maps.length != (long) n * units * h * w) {
            throw new IllegalArgumentException("dissection: " + n + " maps of " + units + "×" + h + "×" + w + " need "
                    + (long) n * units * h * w + " values, got " + maps.length);
        }
        for (ImageConcepts im : images) {
            if (im == null) continue;
            for (int k = 0; k < im.labels().length; k++) truth[im.labels()[k]] += im.masks()[k].count();
            this.images++;
        }
        int chunks = Math.min(units, Runtime.getRuntime().availableProcessors() * 4);
        IntStream.range(0, chunks).parallel().forEach(chunk -> {
            Upsampler up = new Upsampler(h, w, sh, sw);
            BitMask mask = new BitMask(sh * sw);
            int from = (int) ((long) units * chunk / chunks), to = (int) ((long) units * (chunk + 1) / chunks);
            for (int i = 0; i < n; i++) {
                ImageConcepts im = images.get(i);
                if (im == null) continue;
                for (int u = from; u < to; u++) {
                    if (!up.threshold(maps, (i * units + u) * h * w, thresholds[u], mask)) continue;
                    int active = mask.count();
                    for (int c = 0; c < categories; c++) if (im.categories()[c]) activation[u * categories + c] += active;
                    for (int k = 0; k < im.labels().length; k++) both[u * labels + im.labels()[k]] += mask.intersection(im.masks()[k]);
                }
            }
        });
    }

    /** IoU(u, l), row-major [unit, label]; 0 where the union is empty. */
    public double[] iou() {
        double[] out = new double[units * labels];
        for (int u = 0; u < units; u++) {
            for (int l = 0; l < labels; l++) {
                long b = both[u * labels + l];
                long union = activation[u * categories + concepts.primary()[l]] + truth[l] - b;
                out[u * labels + l] = union > 0 ? (double) b / union : 0;
            }
        }
        return out;
    }

    /** Each unit's best label overall and in every category. */
    public List<UnitDissection> results() {
        double[] iou = iou();
        List<UnitDissection> out = new ArrayList<>(units);
        for (int u = 0; u < units; u++) {
            int[] bestIn = new int[categories];
            java.util.Arrays.fill(bestIn, -1);
            for (int l = 0; l < labels; l++) {
                int c = concepts.primary()[l];
                if (bestIn[c] < 0 || iou[u * labels + l] > iou[u * labels + bestIn[c]]) bestIn[c] = l;
            }
            int best = -1;
            for (int c = 0; c < categories; c++) {
                if (bestIn[c] >= 0 && (best < 0 || iou[u * labels + bestIn[c]] > iou[u * labels + best])) best = bestIn[c];
            }
            double[] scores = new double[categories];
            long[] inter = new long[categories], act = new long[categories], tr = new long[categories];
            for (int c = 0; c < categories; c++) {
                int l = bestIn[c];
                if (l < 0) continue;
                scores[c] = iou[u * labels + l];
                inter[c] = both[u * labels + l];
                act[c] = activation[u * categories + c];
                tr[c] = truth[l];
            }
            out.add(new UnitDissection(u, best, best < 0 ? 0 : iou[u * labels + best], bestIn, scores, inter, act, tr));
        }
        return out;
    }
}
