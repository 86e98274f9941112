package dev.advinterp.experiments.activations;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;

/**
 * Each unit's strongest response in each image: the maximum over the spatial positions of a layer's
 * output {@code [n, c, h, w]}, as {@code n·c} floats (row-major [n, c]). Computed on the tensor's
 * device as a max pool over the whole map, so only {@code n·c} floats cross to the host; a
 * non-square map is reduced on the host.
 */
public final class SpatialMax {
    private SpatialMax() {
    }

    public static float[] of(Tensor maps) {
        if (maps.rank() == 2) return maps.toArray();
        if (maps.rank() != 4) throw new IllegalArgumentException("spatial max: expected a layer output [n, c, h, w], got " + maps.shape());
        int n = maps.dim(0), c = maps.dim(1), h = maps.dim(2), w = maps.dim(3);
        if (h == w) {
            try (Scope s = Scope.open()) {
                return Ops.maxPool2d(maps, h, h, 0).toArray();
            }
        }
        float[] v = maps.toArray(), out = new float[n * c];
        int hw = h * w;
        for (int k = 0; k < n * c; k++) {
            float m = Float.NEGATIVE_INFINITY;
            for (int p = 0; p < hw; p++) m = Math.max(m, v[k * hw + p]);
            out[k] = m;
        }
        return out;
    }
}
