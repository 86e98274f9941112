package dev.advinterp.experiments.attacks;

import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.models.ImageModel;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * An attack as the command line names it, with its sizes: what a run records in its settings and
 * builds the {@link Attack} from. Sizes are in pixel units ({@link PixelUnits}).
 *
 * @param name   fgsm, bim, pgd, pgd-l2, illc or targeted-l2
 * @param eps    ε (L∞; the L2 norm for pgd-l2); unused by targeted-l2
 * @param step   the step of pgd and pgd-l2 (null: ε/4)
 * @param steps  the iterations of pgd and pgd-l2; targeted-l2's Adam iterations per round of its λ
 *               search ({@link #defaultSteps}: 10, and targeted-l2's 100)
 * @param target the targets of targeted-l2: "random" (a seeded class other than the label) or a class index
 * @param seed   the seed of random starts and random targets
 */
public record AttackSpec(String name, float eps, Float step, int steps, String target, long seed) {
    public static final List<String> NAMES = List.of("fgsm", "bim", "pgd", "pgd-l2", "illc", "targeted-l2");

    public AttackSpec {
        if (!NAMES.contains(name)) throw new IllegalArgumentException("unknown attack '" + name + "'; use " + String.join(", ", NAMES));
        if (!Float.isFinite(eps) || eps < 0) throw new IllegalArgumentException("--eps must be a finite number >= 0, got " + eps);
        if (step != null && (!Float.isFinite(step) || step <= 0)) throw new IllegalArgumentException("--step must be a finite number > 0, got " + step);
        if (steps <= 0) throw new IllegalArgumentException("--steps must be positive, got " + steps);
        if (target == null) target = "random";
        if (!target.equals("random")) {
            try {
                Integer.parseInt(target);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--target must be 'random' or a class index, got '" + target + "'");
            }
        }
    }

    /** The iterations an attack takes when none are given: 10, and targeted-l2's 100 Adam steps per round. */
    public static int defaultSteps(String name) {
        return name.equals("targeted-l2") ? 100 : 10;
    }

    /** The attack of the paper's Figures 3–4, with {@code iterations} Adam steps per round of its λ search (100: the paper's). */
    public static AttackSpec targetedL2(int iterations) {
        return new AttackSpec("targeted-l2", 1, null, iterations, "random", 1);
    }

    /** The paper's FGSM for the consistency metric and Table 3: ε = 1. */
    public static AttackSpec fgsm(float eps) {
        return new AttackSpec("fgsm", eps, null, 10, "random", 1);
    }

    /** The least-likely class attack of the dissection measurements. */
    public static AttackSpec illc(float eps) {
        return new AttackSpec("illc", eps, null, 10, "random", 1);
    }

    public Attack build() {
        float st = step != null ? step : eps / 4;
        return switch (name) {
            case "fgsm" -> new Fgsm(eps);
            case "bim" -> IterativeFgsm.bim(eps);
            case "pgd" -> IterativeFgsm.pgd(eps, st, steps, seed);
            case "pgd-l2" -> new PgdL2(eps, st, steps, seed, false);
            case "illc" -> new LeastLikelyClass(eps);
            case "targeted-l2" -> TargetedL2.defaults().withIterations(steps);
            default -> throw new IllegalStateException(name);
        };
    }

    /** Whether the attack aims at a class (its success is reaching it) rather than away from the label. */
    public boolean targeted() {
        return name.equals("illc") || name.equals("targeted-l2");
    }

    /**
     * The class each image is steered to (targeted attacks) or away from (the label), for a batch
     * whose first image has dataset index {@code offset}: ILLC's least-likely class of the clean
     * image, targeted-l2's chosen target, or the labels.
     */
    public int[] goals(Attack attack, ImageModel model, Tensor images, int[] labels, int offset) {
        if (attack instanceof LeastLikelyClass illc) return illc.targets(model, images);
        if (!name.equals("targeted-l2")) return labels;
        int classes = model.config().classes();
        int[] t = new int[labels.length];
        for (int i = 0; i < labels.length; i++) {
            if (!target.equals("random")) {
                t[i] = Integer.parseInt(target);
                if (t[i] < 0 || t[i] >= classes) throw new IllegalArgumentException("--target " + t[i] + " is outside [0, " + classes + ")");
            } else {
                SplittableRandom r = new SplittableRandom(seed * 1_000_003L + offset + i);
                t[i] = (labels[i] + 1 + r.nextInt(classes - 1)) % classes;
            }
        }
        return t;
    }

    /** The attack's settings, for a run's settings.json (only what changes its results). */
    public Map<String, Object> settings() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("attack", name);
        switch (name) {
            case "targeted-l2" -> {
                m.put("steps", steps);
                m.put("target", target);
                if (target.equals("random")) m.put("seed", seed);
            }
            case "pgd", "pgd-l2" -> {
                m.put("eps", eps);
                m.put("step", step != null ? step : eps / 4);
                m.put("steps", steps);
                m.put("seed", seed);
            }
            default -> m.put("eps", eps);
        }
        return m;
    }
}
