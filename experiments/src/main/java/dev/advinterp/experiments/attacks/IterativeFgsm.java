package dev.advinterp.experiments.attacks;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.models.ImageModel;

import java.util.SplittableRandom;

/**
 * Iterative L∞ attacks built on the fused FGSM step, which clips to the ε-ball around the clean
 * image and to [0, 1] at every step:
 * <ul>
 *   <li>BIM / I-FGSM (Kurakin et al. 2017): from the clean image, {@code steps} steps of size α;</li>
 *   <li>PGD (Madry et al. 2018): the same from a uniform random start in the ε-ball (seeded).</li>
 * </ul>
 * Targeted variants descend the cross-entropy of the target instead of ascending that of the label.
 */
public record IterativeFgsm(float epsPixels, float stepPixels, int steps, boolean randomStart, long seed, boolean targeted,
                            boolean trainingMode) implements Attack {

    public IterativeFgsm {
        if (!(epsPixels >= 0) || !(stepPixels > 0) || steps <= 0) {
            throw new IllegalArgumentException("iterative FGSM: need ε >= 0, step > 0 and steps > 0; got ε=" + epsPixels
                    + ", step=" + stepPixels + ", steps=" + steps);
        }
    }

    /** BIM with Kurakin's schedule: step 1, min(ε + 4, 1.25ε) iterations. */
    public static IterativeFgsm bim(float epsPixels) {
        return new IterativeFgsm(epsPixels, 1f, kurakinIterations(epsPixels), false, 0, false, false);
    }

    /** PGD (L∞) with a random start. */
    public static IterativeFgsm pgd(float epsPixels, float stepPixels, int steps, long seed) {
        return new IterativeFgsm(epsPixels, stepPixels, steps, true, seed, false, false);
    }

    /** Kurakin et al.'s iteration count for ε in pixel units: ⌊min(ε + 4, 1.25ε)⌋, at least 1. */
    public static int kurakinIterations(float epsPixels) {
        return Math.max(1, (int) Math.floor(Math.min(epsPixels + 4, 1.25 * epsPixels)));
    }

    @Override
    public String name() {
        return (randomStart ? "pgd" : "bim") + (targeted ? "-targeted" : "") + "(eps=" + epsPixels + ",step=" + stepPixels
                + ",steps=" + steps + ")";
    }

    @Override
    public Tensor perturb(ImageModel model, Tensor images, int[] labels) {
        float eps = PixelUnits.toRange(epsPixels), alpha = (targeted ? -1 : 1) * PixelUnits.toRange(stepPixels);
        Tensor adv = images.copy();
        if (randomStart) {
            float[] v = adv.toArray();
            SplittableRandom r = new SplittableRandom(seed);
            for (int i = 0; i < v.length; i++) v[i] = Math.min(1f, Math.max(0f, v[i] + (float) ((2 * r.nextDouble() - 1) * eps)));
            try (Scope s = Scope.open()) {
                adv.copyFrom(Tensor.of(v, adv.shape().dims()));
            }
        }
        try (var mode = model.inMode(trainingMode)) {
            for (int k = 0; k < steps; k++) {
                try (Scope s = Scope.open()) {
                    Tensor g = InputGradients.ofCrossEntropy(model, adv, labels);
                    Ops.fgsmStep(adv, g, images, alpha, eps, Bounds.LO, Bounds.HI);
                }
            }
        }
        return adv;
    }
}
