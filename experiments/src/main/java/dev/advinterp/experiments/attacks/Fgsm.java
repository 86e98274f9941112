package dev.advinterp.experiments.attacks;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.models.ImageModel;

/**
 * Fast gradient sign method (Goodfellow et al. 2015), non-targeted:
 * {@code x* = clip(x + ε·sign(∇ₓ CE(x, y)), 0, 1)}, one fused FGSM step. The paper evaluates with
 * ε = 1 (pixel units).
 */
public record Fgsm(float epsPixels, boolean trainingMode) implements Attack {
    public static final float PAPER_EPS = 1f;

    public Fgsm {
        if (!(epsPixels >= 0)) throw new IllegalArgumentException("FGSM: ε must be >= 0, got " + epsPixels);
    }

    public Fgsm(float epsPixels) {
        this(epsPixels, false);
    }

    @Override
    public String name() {
        return "fgsm(eps=" + epsPixels + ")";
    }

    @Override
    public boolean targeted() {
        return false;
    }

    @Override
    public Tensor perturb(ImageModel model, Tensor images, int[] labels) {
        float eps = PixelUnits.toRange(epsPixels);
        Tensor adv = images.copy();
        try (var mode = model.inMode(trainingMode)) {
            try (Scope s = Scope.open()) {
                Tensor g = InputGradients.ofCrossEntropy(model, images, labels);
                Ops.fgsmStep(adv, g, images, eps, eps, Bounds.LO, Bounds.HI);
            }
        }
        return adv;
    }
}
