package dev.advinterp.experiments.metrics.dissection;

import org.apache.datasketches.quantilescommon.QuantileSearchCriteria;
import org.apache.datasketches.req.ReqSketch;

import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Each unit's threshold T: the value that a fraction q of all its activations over an image set
 * (every spatial position of every image) lie above, NetDissect's top-0.5% level for q = 0.005.
 * With M values, T is the ⌈(1 − q)·M⌉-th smallest; a pixel is part of the unit's mask when its
 * (upsampled) value is strictly above T.
 *
 * <p>Exact when every value of every unit fits in the given budget: the values are kept and sorted.
 * Otherwise each unit feeds an Apache DataSketches REQ sketch in high-rank-accuracy mode, whose
 * rank error shrinks towards the top of the distribution, where this threshold lies: the memory is
 * a few kilobytes per unit whatever the set's size (tested against the exact quantile in
 * {@code UnitQuantilesTest}, which states the error measured).
 */
public final class UnitQuantiles {
    /** The REQ sketch's section size: larger is more accurate and bigger. */
    public static final int SKETCH_K = 50;

    private final int units;
    private final double q;
    private final float[][] values;
    private final int[] count;
    private final ReqSketch[] sketches;

    private UnitQuantiles(int units, double q, float[][] values, ReqSketch[] sketches) {
        this.units = units;
        this.q = q;
        this.values = values;
        this.count = new int[units];
        this.sketches = sketches;
    }

    /**
     * @param valuesPerUnit  the most values a unit will see (images × positions)
     * @param budgetValues   the most values kept for an exact answer (over all units)
     */
    public static UnitQuantiles create(int units, long valuesPerUnit, double q, long budgetValues) {
        if (!(q > 0 && q < 1)) throw new IllegalArgumentException("--quantile must be in (0, 1), got " + q);
        if (valuesPerUnit * units <= budgetValues && valuesPerUnit < Integer.MAX_VALUE - 8) {
            float[][] v = new float[units][(int) valuesPerUnit];
            return new UnitQuantiles(units, q, v, null);
        }
        ReqSketch[] s = new ReqSketch[units];
        for (int u = 0; u < units; u++) s[u] = ReqSketch.builder().setK(SKETCH_K).setHighRankAccuracy(true).build();
        return new UnitQuantiles(units, q, null, s);
    }

    public boolean exact() {
        return values != null;
    }

    /** Adds the maps {@code [n, units, h, w]} of a batch; {@code skip[i]} leaves image i out (unreadable). */
    public void add(float[] maps, int n, int h, int w, boolean[] skip) {
        int hw = h * w;
        if (maps.length != (long) n * units * hw) throw new IllegalArgumentException("quantiles: expected " + (long) n * units * hw + " values");
        IntStream.range(0, units).parallel().forEach(u -> {
            for (int i = 0; i < n; i++) {
                if (skip != null && skip[i]) continue;
                int off = (i * units + u) * hw;
                if (values != null) {
                    if (count[u] + hw > values[u].length) throw new IllegalStateException("more activations than the " + values[u].length + " expected");
                    System.arraycopy(maps, off, values[u], count[u], hw);
                    count[u] += hw;
                } else {
                    ReqSketch s = sketches[u];
                    for (int p = 0; p < hw; p++) s.update(maps[off + p]);
                }
            }
        });
    }

    /** Every unit's threshold. */
    public float[] thresholds() {
        float[] t = new float[units];
        IntStream.range(0, units).parallel().forEach(u -> {
            if (values != null) {
                int m = count[u];
                if (m == 0) throw new IllegalStateException("no activations were added");
                float[] v = Arrays.copyOf(values[u], m);
                Arrays.sort(v);
                int rank = (int) Math.ceil((1 - q) * m); // 1-based
                t[u] = v[Math.max(0, Math.min(m - 1, rank - 1))];
            } else {
                if (sketches[u].isEmpty()) throw new IllegalStateException("no activations were added");
                t[u] = sketches[u].getQuantile(1 - q, QuantileSearchCriteria.INCLUSIVE);
            }
        });
        return t;
    }

    /** Bytes the accumulated state holds (for the report of peak memory). */
    public long bytes() {
        if (values != null) return (long) units * values[0].length * Float.BYTES;
        long b = 0;
        for (ReqSketch s : sketches) b += s.getSerializedSizeBytes();
        return b;
    }
}
