package dev.advinterp.experiments.metrics.dissection;

/**
 * A unit's activation map upsampled bilinearly from the layer's {@code h×w} to the masks'
 * {@code sh×sw} and thresholded, as NetDissect does it (PIL's bilinear resize for enlarging:
 * pixel centres aligned, {@code x_in = (x_out + 0.5)·w/sw − 0.5}, clamped at the edges). The
 * interpolation is separable: each source row is interpolated to {@code sw} columns once, then
 * each output row is a blend of two of those. A map whose maximum is not above the threshold has
 * an empty mask (bilinear values never exceed the largest input), which most maps are at the top
 * 0.5% quantile, so they cost nothing.
 */
public final class Upsampler {
    private final int h, w, sh, sw;
    private final int[] x0, x1, y0, y1;
    private final float[] fx, fy;
    private final float[] rows;

    public Upsampler(int h, int w, int sh, int sw) {
        if (h <= 0 || w <= 0 || sh <= 0 || sw <= 0) throw new IllegalArgumentException("upsample " + h + "×" + w + " → " + sh + "×" + sw);
        this.h = h;
        this.w = w;
        this.sh = sh;
        this.sw = sw;
        x0 = new int[sw];
        x1 = new int[sw];
        fx = new float[sw];
        axis(w, sw, x0, x1, fx);
        y0 = new int[sh];
        y1 = new int[sh];
        fy = new float[sh];
        axis(h, sh, y0, y1, fy);
        rows = new float[h * sw];
    }

    private static void axis(int in, int out, int[] lo, int[] hi, float[] frac) {
        double scale = (double) in / out;
        for (int o = 0; o < out; o++) {
            double c = Math.min(in - 1, Math.max(0, (o + 0.5) * scale - 0.5));
            int a = (int) Math.floor(c);
            lo[o] = a;
            hi[o] = Math.min(in - 1, a + 1);
            frac[o] = (float) (c - a);
        }
    }

    /** The upsampled values, {@code sh·sw} row-major, of the map at {@code map[offset…offset+h·w)}. */
    public float[] upsample(float[] map, int offset) {
        interpolateRows(map, offset);
        float[] out = new float[sh * sw];
        for (int y = 0; y < sh; y++) {
            int a = y0[y] * sw, b = y1[y] * sw;
            float t = fy[y];
            for (int x = 0; x < sw; x++) out[y * sw + x] = rows[a + x] + t * (rows[b + x] - rows[a + x]);
        }
        return out;
    }

    /**
     * Sets in {@code mask} (cleared first) the pixels whose upsampled value is above
     * {@code threshold}; returns false, leaving the mask empty, when none can be.
     */
    public boolean threshold(float[] map, int offset, float threshold, BitMask mask) {
        mask.clear();
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < h * w; i++) max = Math.max(max, map[offset + i]);
        if (!(max > threshold)) return false;
        interpolateRows(map, offset);
        boolean any = false;
        for (int y = 0; y < sh; y++) {
            int a = y0[y] * sw, b = y1[y] * sw, base = y * sw;
            float t = fy[y];
            for (int x = 0; x < sw; x++) {
                if (rows[a + x] + t * (rows[b + x] - rows[a + x]) > threshold) {
                    mask.set(base + x);
                    any = true;
                }
            }
        }
        return any;
    }

    private void interpolateRows(float[] map, int offset) {
        for (int r = 0; r < h; r++) {
            int src = offset + r * w, dst = r * sw;
            for (int x = 0; x < sw; x++) {
                float a = map[src + x0[x]];
                rows[dst + x] = a + fx[x] * (map[src + x1[x]] - a);
            }
        }
    }
}
