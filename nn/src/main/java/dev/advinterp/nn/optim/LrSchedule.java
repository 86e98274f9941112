package dev.advinterp.nn.optim;

/**
 * The learning rate of each epoch (PyTorch's per-epoch schedulers, stepped once an epoch).
 */
public sealed interface LrSchedule {

    /** The learning rate for {@code epoch} (0-based). */
    float lr(float base, int epoch);

    /** The same rate throughout. */
    record Constant() implements LrSchedule {
        @Override
        public float lr(float base, int epoch) {
            return base;
        }
    }

    /** {@code base·gamma^⌊epoch/stepSize⌋} (StepLR). */
    record Step(int stepSize, float gamma) implements LrSchedule {
        public Step {
            if (stepSize <= 0 || !(gamma > 0)) throw new IllegalArgumentException("step schedule: step size and gamma must be positive");
        }

        @Override
        public float lr(float base, int epoch) {
            return (float) (base * Math.pow(gamma, epoch / stepSize));
        }
    }

    /** {@code etaMin + (base − etaMin)·(1 + cos(π·epoch/tMax))/2} (CosineAnnealingLR, closed form). */
    record Cosine(int tMax, float etaMin) implements LrSchedule {
        public Cosine {
            if (tMax <= 0 || etaMin < 0) throw new IllegalArgumentException("cosine schedule: tMax must be positive and etaMin >= 0");
        }

        @Override
        public float lr(float base, int epoch) {
            return (float) (etaMin + (base - etaMin) * (1 + Math.cos(Math.PI * Math.min(epoch, tMax) / tMax)) / 2);
        }
    }

    /**
     * A linear warm-up over the first {@code epochs} epochs ({@code base·(e+1)/(epochs+1)}), then
     * {@code then} over the rest, counted from its own epoch 0: small networks trained from scratch
     * at a high rate otherwise start by diverging.
     */
    record Warmup(int epochs, LrSchedule then) implements LrSchedule {
        public Warmup {
            if (epochs <= 0) throw new IllegalArgumentException("warm-up: the epochs must be positive");
        }

        @Override
        public float lr(float base, int epoch) {
            return epoch < epochs ? base * (epoch + 1) / (epochs + 1) : then.lr(base, epoch - epochs);
        }
    }

    /**
     * Parses {@code constant}, {@code step:SIZE:GAMMA} or {@code cosine[:ETA_MIN]} (tMax = the
     * epochs), each optionally after {@code warmup:EPOCHS:} (then tMax = the epochs after it).
     */
    static LrSchedule parse(String spec, int epochs) {
        String s = spec.trim();
        if (s.startsWith("warmup:")) {
            String[] w = s.split(":", 3);
            int n;
            try {
                n = Integer.parseInt(w[1]);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("bad schedule '" + spec + "': warmup:EPOCHS: then a schedule, e.g. warmup:1:cosine");
            }
            if (w.length < 3 || n <= 0 || n >= epochs) {
                throw new IllegalArgumentException("bad schedule '" + spec + "': the warm-up must be 1 or more epochs, fewer than the " + epochs
                        + " of the run, followed by a schedule (e.g. warmup:1:cosine)");
            }
            return new Warmup(n, parse(w[2], epochs - n));
        }
        String[] p = s.split(":");
        try {
            return switch (p[0]) {
                case "constant" -> new Constant();
                case "step" -> new Step(Integer.parseInt(p[1]), Float.parseFloat(p[2]));
                case "cosine" -> new Cosine(epochs, p.length > 1 ? Float.parseFloat(p[1]) : 0f);
                default -> throw new IllegalArgumentException();
            };
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("bad schedule '" + spec + "': use constant, step:SIZE:GAMMA (e.g. step:30:0.1) or cosine[:ETA_MIN], "
                    + "optionally after warmup:EPOCHS: (e.g. warmup:1:cosine)");
        }
    }
}
