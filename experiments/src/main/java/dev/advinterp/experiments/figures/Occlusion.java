package dev.advinterp.experiments.figures;

import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.experiments.activations.SpatialMax;
import dev.advinterp.nn.Activations;
import dev.advinterp.nn.models.ImageModel;

/**
 * Discrepancy maps after Zhou et al. 2015 ("Object detectors emerge in deep scene CNNs"): an image
 * is occluded by a square patch filled with the image's mean colour at every position of a grid,
 * the occluded images go through the model in batches, and each position's discrepancy is how much
 * the occlusion lowers the unit's activation (its maximum over the map). A pixel's value is the
 * mean discrepancy of the patches that cover it: high where the unit looks. The paper's patch is
 * 11×11 at stride 3 (a 224×224 image: 74 × 74 = 5,476 occluded images).
 */
public final class Occlusion {
    private final int patch, stride, batch;

    public Occlusion(int patch, int stride, int batch) {
        if (patch <= 0 || stride <= 0 || batch <= 0) throw new IllegalArgumentException("occlusion: patch, stride and batch must be positive");
        this.patch = patch;
        this.stride = stride;
        this.batch = batch;
    }

    /** The paper's: 11×11 patches at stride 3, 64 occluded images a batch. */
    public static Occlusion paper() {
        return new Occlusion(11, 3, 64);
    }

    /** Occluded images per image of side {@code h}×{@code w}. */
    public int positions(int h, int w) {
        return Math.max(1, h / stride) * Math.max(1, w / stride);
    }

    /**
     * The discrepancy map ({@code h·w} floats, row-major) of {@code unit} of {@code layer} for the
     * image {@code [c, h, w]} at {@code offset} of {@code images}; the model in evaluation mode.
     */
    public float[] map(ImageModel model, String layer, int unit, float[] images, int offset, int c, int h, int w) {
        int ny = Math.max(1, h / stride), nx = Math.max(1, w / stride), n = ny * nx, per = c * h * w;
        float[] image = java.util.Arrays.copyOfRange(images, offset, offset + per);
        float[] mean = new float[c];
        for (int ch = 0; ch < c; ch++) {
            double s = 0;
            for (int p = 0; p < h * w; p++) s += image[ch * h * w + p];
            mean[ch] = (float) (s / (h * w));
        }
        float base = activations(model, layer, unit, image, 1, c, h, w)[0];
        float[] drop = new float[n];
        for (int from = 0; from < n; from += batch) {
            int k = Math.min(batch, n - from);
            float[] occluded = new float[k * per];
            for (int j = 0; j < k; j++) {
                int pos = from + j, y0 = (pos / nx) * stride, x0 = (pos % nx) * stride;
                System.arraycopy(image, 0, occluded, j * per, per);
                for (int ch = 0; ch < c; ch++) {
                    for (int y = y0; y < Math.min(h, y0 + patch); y++) {
                        for (int x = x0; x < Math.min(w, x0 + patch); x++) occluded[j * per + ch * h * w + y * w + x] = mean[ch];
                    }
                }
            }
            float[] a = activations(model, layer, unit, occluded, k, c, h, w);
            for (int j = 0; j < k; j++) drop[from + j] = base - a[j];
        }
        float[] sum = new float[h * w], count = new float[h * w];
        for (int pos = 0; pos < n; pos++) {
            int y0 = (pos / nx) * stride, x0 = (pos % nx) * stride;
            for (int y = y0; y < Math.min(h, y0 + patch); y++) {
                for (int x = x0; x < Math.min(w, x0 + patch); x++) {
                    sum[y * w + x] += drop[pos];
                    count[y * w + x]++;
                }
            }
        }
        for (int p = 0; p < sum.length; p++) sum[p] = count[p] == 0 ? 0 : sum[p] / count[p];
        return sum;
    }

    /** The unit's maximum over its map for each of {@code n} images. */
    private static float[] activations(ImageModel model, String layer, int unit, float[] images, int n, int c, int h, int w) {
        try (var mode = model.inMode(false); Scope s = Scope.open(); Activations cap = Activations.capture(layer)) {
            model.call(Tensor.of(images, n, c, h, w));
            Tensor maps = cap.get(layer);
            int units = maps.dim(1);
            float[] all = SpatialMax.of(maps), out = new float[n];
            for (int i = 0; i < n; i++) out[i] = all[i * units + unit];
            return out;
        }
    }

    /** Where the discrepancy is at least {@code fraction} of its largest positive value: the region the unit depends on. */
    public static boolean[] region(float[] discrepancy, double fraction) {
        float max = 0;
        for (float v : discrepancy) max = Math.max(max, v);
        boolean[] on = new boolean[discrepancy.length];
        if (max <= 0) return on;
        for (int p = 0; p < on.length; p++) on[p] = discrepancy[p] >= fraction * max;
        return on;
    }
}
