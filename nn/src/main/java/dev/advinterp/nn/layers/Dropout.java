package dev.advinterp.nn.layers;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.Module;

/**
 * Inverted dropout, active in training mode only. Its mask follows from the tree's seed (see
 * {@link Module#seed}), mixed with the layer's path, so two dropout layers never share a mask and
 * a run is reproducible (the trainer reseeds every step).
 */
public final class Dropout extends Module {
    public final float p;
    private long seed;

    public Dropout(float p) {
        if (!(p >= 0f && p < 1f)) throw new IllegalArgumentException("Dropout: p must be in [0, 1), got " + p);
        this.p = p;
    }

    @Override
    public void seed(long seed) {
        this.seed = seed * 0x9E3779B97F4A7C15L + path().hashCode();
    }

    @Override
    protected Tensor forward(Tensor x) {
        return Ops.dropout(x, p, seed, training);
    }
}
