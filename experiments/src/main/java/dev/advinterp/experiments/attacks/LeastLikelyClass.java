package dev.advinterp.experiments.attacks;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.models.ImageModel;

/**
 * Iterative least-likely class method (Kurakin et al. 2017): the target is the class the model
 * finds least likely on the clean image, fixed once; then step 1 (pixel units) towards it for
 * min(ε + 4, 1.25ε) iterations inside the ε-ball. The paper's adversarial images for network
 * dissection come from this attack. {@link #run} reports success as reaching that target.
 */
public record LeastLikelyClass(float epsPixels, boolean trainingMode) implements Attack {

    public LeastLikelyClass {
        if (!(epsPixels > 0)) throw new IllegalArgumentException("least-likely class: ε must be > 0, got " + epsPixels);
    }

    public LeastLikelyClass(float epsPixels) {
        this(epsPixels, false);
    }

    @Override
    public String name() {
        return "illc(eps=" + epsPixels + ")";
    }

    /** Success means reaching the least-likely class. */
    @Override
    public boolean targeted() {
        return true;
    }

    /** The least-likely class of each clean image. */
    public int[] targets(ImageModel model, Tensor images) {
        try (var mode = model.inMode(trainingMode); Scope s = Scope.open()) {
            return Ops.argmax(Ops.scale(model.call(images), -1f));
        }
    }

    @Override
    public Tensor perturb(ImageModel model, Tensor images, int[] labels) {
        int[] target = targets(model, images);
        return new IterativeFgsm(epsPixels, 1f, IterativeFgsm.kurakinIterations(epsPixels), false, 0, true, trainingMode)
                .perturb(model, images, target);
    }

    @Override
    public AttackResult run(ImageModel model, Tensor images, int[] labels) {
        int[] target = targets(model, images);
        Tensor adv = new IterativeFgsm(epsPixels, 1f, IterativeFgsm.kurakinIterations(epsPixels), false, 0, true, trainingMode)
                .perturb(model, images, target);
        return AttackResult.measure(model, images, adv, target, true);
    }
}
