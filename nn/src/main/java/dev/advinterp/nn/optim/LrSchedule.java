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

    /** Parses {@code constant}, {@code step:SIZE:GAMMA} or {@code cosine[:ETA_MIN]} (tMax = the epochs). */
    static LrSchedule parse(String spec, int epochs) {
        String[] p = spec.trim().split(":");
        try {
            return switch (p[0]) {
                case "constant" -> new Constant();
                case "step" -> new Step(Integer.parseInt(p[1]), Float.parseFloat(p[2]));
                case "cosine" -> new Cosine(epochs, p.length > 1 ? Float.parseFloat(p[1]) : 0f);
                default -> throw new IllegalArgumentException();
            };
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("bad schedule '" + spec + "': use constant, step:SIZE:GAMMA (e.g. step:30:0.1) or cosine[:ETA_MIN]");
        }
    }
}
