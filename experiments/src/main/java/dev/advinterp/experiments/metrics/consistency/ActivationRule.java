package dev.advinterp.experiments.metrics.consistency;

/**
 * When an image "activates" a unit, the paper's Eq. 1 condition, which it leaves open. Both rules
 * set a threshold T per unit from the unit's per-image maxima on the real images, and an image
 * activates the unit when its value is strictly above T; adversarial images are held to the same
 * absolute T. Strictly above: a unit that never fires (all zeros after its ReLU) activates no
 * image, rather than every image.
 * <ul>
 *   <li>{@code quantile:Q} (default Q = 0.01): T is the (k+1)-th largest real value, k = ⌈Q·N⌉, so
 *       the top fraction Q of the N real images activate the unit (fewer where values tie);</li>
 *   <li>{@code topk:K}: the same with k = K.</li>
 * </ul>
 */
public sealed interface ActivationRule {
    Quantile DEFAULT_QUANTILE = new Quantile(0.01);
    ActivationRule DEFAULT = DEFAULT_QUANTILE;

    /** How many of {@code n} real images the threshold lets through (k). */
    int count(int n);

    /** The text form, as {@link #parse} reads it. */
    String id();

    record Quantile(double q) implements ActivationRule {
        public Quantile {
            if (!(q > 0 && q < 1)) throw new IllegalArgumentException("--activation quantile:Q needs 0 < Q < 1, got " + q);
        }

        @Override
        public int count(int n) {
            return (int) Math.min(n, Math.max(1, Math.ceil(q * n)));
        }

        @Override
        public String id() {
            return "quantile:" + q;
        }
    }

    record TopK(int k) implements ActivationRule {
        public TopK {
            if (k <= 0) throw new IllegalArgumentException("--activation topk:K needs K > 0, got " + k);
        }

        @Override
        public int count(int n) {
            return Math.min(n, k);
        }

        @Override
        public String id() {
            return "topk:" + k;
        }
    }

    /** {@code quantile:Q} or {@code topk:K}. */
    static ActivationRule parse(String s) {
        int colon = s.indexOf(':');
        String kind = colon < 0 ? s : s.substring(0, colon), arg = colon < 0 ? "" : s.substring(colon + 1);
        try {
            return switch (kind) {
                case "quantile" -> new Quantile(Double.parseDouble(arg));
                case "topk" -> new TopK(Integer.parseInt(arg));
                default -> throw new IllegalArgumentException("--activation must be quantile:Q or topk:K, got '" + s + "'");
            };
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--activation " + s + ": '" + arg + "' is not a number", e);
        }
    }

    /** The threshold T of one unit from its values on the real images: the (k+1)-th largest (−∞ when k is every image). */
    default float threshold(float[] values) {
        int n = values.length, k = count(n);
        if (k >= n) return Float.NEGATIVE_INFINITY;
        float[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        return sorted[n - 1 - k];
    }
}
