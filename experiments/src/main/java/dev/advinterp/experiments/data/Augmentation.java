package dev.advinterp.experiments.data;

import java.util.SplittableRandom;

/**
 * A training-time transformation of one image, drawn from a per-sample generator (the loader
 * derives it from the seed, the epoch and the sample's index, so augmentation is reproducible).
 */
@FunctionalInterface
public interface Augmentation {

    Sample apply(Sample s, SplittableRandom random);

    /** No change. */
    static Augmentation none() {
        return (s, r) -> s;
    }

    /** Zero-pad by {@code pad} on every side, then crop back to the original size at a random place. */
    static Augmentation randomCrop(int pad) {
        if (pad < 0) throw new IllegalArgumentException("random crop: padding must be >= 0, got " + pad);
        return (s, r) -> {
            if (pad == 0) return s;
            int c = s.c(), h = s.h(), w = s.w();
            int dy = r.nextInt(2 * pad + 1) - pad, dx = r.nextInt(2 * pad + 1) - pad;
            float[] out = new float[c * h * w];
            float[] in = s.image();
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    int sy = y + dy;
                    if (sy < 0 || sy >= h) continue;
                    for (int x = 0; x < w; x++) {
                        int sx = x + dx;
                        if (sx >= 0 && sx < w) out[(ch * h + y) * w + x] = in[(ch * h + sy) * w + sx];
                    }
                }
            }
            return new Sample(out, s.label(), c, h, w, s.unreadable());
        };
    }

    /** Mirror left-right with probability 1/2. */
    static Augmentation horizontalFlip() {
        return (s, r) -> {
            if (!r.nextBoolean()) return s;
            int c = s.c(), h = s.h(), w = s.w();
            float[] in = s.image(), out = new float[in.length];
            for (int row = 0; row < c * h; row++) {
                for (int x = 0; x < w; x++) out[row * w + x] = in[row * w + (w - 1 - x)];
            }
            return new Sample(out, s.label(), c, h, w, s.unreadable());
        };
    }

    /** This, then {@code next}. */
    default Augmentation then(Augmentation next) {
        return (s, r) -> next.apply(apply(s, r), r);
    }
}
