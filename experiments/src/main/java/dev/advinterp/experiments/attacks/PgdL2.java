package dev.advinterp.experiments.attacks;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.models.ImageModel;

import java.util.SplittableRandom;

/**
 * PGD in the L2 norm (Madry et al. 2018), non-targeted: from a random start in the ε-ball, each
 * step moves α along the per-image normalised gradient, then projects back onto the ball around
 * the clean image and clips to [0, 1] ({@link Ops#l2Step}, on the images' device: nothing but the
 * start crosses to the host). ε and α are L2 norms in pixel units (a pixel unit is 1/255
 * per value).
 */
public record PgdL2(float epsPixels, float stepPixels, int steps, long seed, boolean trainingMode) implements Attack {

    public PgdL2 {
        if (!(epsPixels > 0) || !(stepPixels > 0) || steps <= 0) {
            throw new IllegalArgumentException("PGD-L2: need ε > 0, step > 0 and steps > 0; got ε=" + epsPixels + ", step="
                    + stepPixels + ", steps=" + steps);
        }
    }

    @Override
    public String name() {
        return "pgd-l2(eps=" + epsPixels + ",step=" + stepPixels + ",steps=" + steps + ")";
    }

    @Override
    public boolean targeted() {
        return false;
    }

    @Override
    public Tensor perturb(ImageModel model, Tensor images, int[] labels) {
        int n = images.dim(0), per = (int) (images.numel() / n);
        float eps = PixelUnits.toRange(epsPixels), alpha = PixelUnits.toRange(stepPixels);
        float[] x0 = images.toArray(), x = x0.clone();
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            // a uniform point of the ball: a Gaussian direction, radius ε·u^(1/d)
            double[] d = new double[per];
            double norm = 0;
            for (int j = 0; j < per; j++) {
                d[j] = gaussian(r);
                norm += d[j] * d[j];
            }
            double radius = eps * Math.pow(r.nextDouble(), 1.0 / per) / Math.sqrt(norm);
            for (int j = 0; j < per; j++) x[i * per + j] = clip01(x0[i * per + j] + (float) (d[j] * radius));
        }
        // the start is drawn on the host once; the steps run where the images are, in place on adv
        Tensor adv;
        try (Scope onDevice = Scope.open(images.memory())) {
            adv = onDevice.keep(Tensor.of(x, images.shape().dims()));
        }
        try (var mode = model.inMode(trainingMode)) {
            for (int k = 0; k < steps; k++) {
                try (Scope s = Scope.open()) {
                    Tensor g = InputGradients.ofCrossEntropy(model, adv, labels);
                    Ops.l2Step(adv, g, images, alpha, eps, 0f, 1f);
                }
            }
        }
        return adv;
    }

    private static float clip01(float v) {
        return Math.min(1f, Math.max(0f, v));
    }

    private static double gaussian(SplittableRandom r) {
        return Math.sqrt(-2.0 * Math.log(1.0 - r.nextDouble())) * Math.cos(2.0 * Math.PI * r.nextDouble());
    }
}
