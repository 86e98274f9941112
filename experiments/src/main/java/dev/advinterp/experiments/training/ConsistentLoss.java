package dev.advinterp.experiments.training;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tape;
import dev.advinterp.engine.Tensor;
import dev.advinterp.experiments.attacks.Bounds;
import dev.advinterp.experiments.attacks.PixelUnits;
import dev.advinterp.nn.Activations;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.train.Objective;

/**
 * Adversarial training with the paper's consistent loss (Eq. 6):
 * {@code α·CE(x) + (1 − α)·CE(x*) + β·d(φ(x), φ(x*))}, x* = FGSM(x) with budget ε made on the
 * fly, φ a named layer (the model's last convolutional layer by default), d the fused
 * feature-matching loss (mean squared distance).
 *
 * <p>The clean forward is computed once: FGSM's input gradient is taken from it
 * ({@link Tape#gradients}, which computes no weight gradients), and the same forward is then
 * differentiated by the training loss; x is watched for that input gradient only (unless the
 * caller watched it), so the training backward computes no gradient for the image.
 *
 * <p>With {@code unrelaxed}, Eq. 5: the feature term uses a second adversary x′ found by
 * {@code innerSteps} PGD steps (step ε/4, from x*) that maximise d(φ(x), φ(x′)) in the ε-ball;
 * the search runs the model in evaluation mode so that it does not disturb the batch statistics.
 */
public final class ConsistentLoss implements Objective {

    /** α = 0.5 (Goodfellow et al.'s mix), β = 1, ε = 2 pixel units, φ = the model's last conv layer, relaxed. */
    public record Options(float alpha, float beta, float epsPixels, String layer, boolean unrelaxed, int innerSteps) {
        public Options {
            if (!(alpha >= 0 && alpha <= 1)) throw new IllegalArgumentException("consistent loss: α must be in [0, 1], got " + alpha);
            if (!(beta >= 0) || !Float.isFinite(beta)) throw new IllegalArgumentException("consistent loss: --beta must be a finite number >= 0, got " + beta);
            if (!(epsPixels > 0) || !Float.isFinite(epsPixels)) {
                throw new IllegalArgumentException("consistent loss: --eps must be a finite number > 0 (pixel units), got " + epsPixels);
            }
            if (unrelaxed && innerSteps <= 0) throw new IllegalArgumentException("consistent loss: the unrelaxed form needs inner steps > 0");
        }

        public static Options defaults() {
            return new Options(0.5f, 1f, 2f, null, false, 3);
        }
    }

    private final Options options;

    public ConsistentLoss(Options options) {
        this.options = options;
    }

    public Options options() {
        return options;
    }

    @Override
    public Output compute(ImageModel model, Tensor x, int[] labels) {
        Tape tape = Tape.active();
        if (tape == null) throw new IllegalStateException("the consistent loss runs inside a recording tape (the trainer's)");
        String layer = options.layer() == null ? model.phiLayer() : options.layer();
        float eps = PixelUnits.toRange(options.epsPixels());
        boolean watchedBefore = tape.watches(x);
        tape.watch(x);
        Tensor logits, phi;
        try (Activations cap = Activations.capture(layer)) {
            logits = model.call(x);
            phi = cap.get(layer);
        }
        Tensor ceClean = Ops.softmaxCrossEntropy(logits, labels);
        Tensor xAdv = x.copy(); // not watched: x* is a constant of the training loss
        try (Scope s = Scope.open()) {
            Tensor g = tape.gradients(ceClean, x).of(x);
            Ops.fgsmStep(xAdv, g, x, eps, eps, Bounds.LO, Bounds.HI);
        }
        if (!watchedBefore) tape.unwatch(x); // the training backward then skips the first layer's input gradient
        Tensor logitsAdv, phiAdv;
        try (Activations cap = Activations.capture(layer)) {
            logitsAdv = model.call(xAdv);
            phiAdv = cap.get(layer);
        }
        Tensor ceAdv = Ops.softmaxCrossEntropy(logitsAdv, labels);
        if (options.unrelaxed()) {
            Tensor xPrime = strongestFeatureAdversary(model, x, xAdv, phi, layer, eps);
            try (Activations cap = Activations.capture(layer)) {
                model.call(xPrime);
                phiAdv = cap.get(layer);
            }
        }
        Tensor d = Ops.featureMatching(phi, phiAdv);
        Tensor loss = Ops.add(Ops.add(Ops.scale(ceClean, options.alpha()), Ops.scale(ceAdv, 1 - options.alpha())),
                Ops.scale(d, options.beta()));
        return new Output(loss, logits);
    }

    /** PGD from x* that maximises d(φ(x), φ(x′)) with φ(x) held constant. */
    private Tensor strongestFeatureAdversary(ImageModel model, Tensor x, Tensor xAdv, Tensor phiClean, String layer, float eps) {
        Tensor xp = xAdv.copy();
        try (var mode = model.inMode(false)) {
            for (int k = 0; k < options.innerSteps(); k++) {
                try (Scope s = Scope.open(); Tape inner = Tape.start(); Activations cap = Activations.capture(layer)) {
                    inner.watch(xp);
                    model.call(xp);
                    Tensor d = Ops.featureMatching(phiClean, cap.get(layer));
                    Tensor g = inner.gradients(d, xp).of(xp);
                    Ops.fgsmStep(xp, g, x, eps / 4, eps, Bounds.LO, Bounds.HI);
                }
            }
        }
        return xp;
    }
}
