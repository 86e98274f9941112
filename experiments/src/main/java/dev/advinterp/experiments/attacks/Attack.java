package dev.advinterp.experiments.attacks;

import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.models.ImageModel;

/**
 * An adversarial attack: from images in [0, 1] and their labels (or, for a targeted attack, the
 * target classes) to adversarial images in [0, 1], batched. Sizes (ε, steps) are in pixel units
 * of 1/255, as the paper gives them. The model runs in evaluation mode unless the attack was
 * built to use training mode; its mode is restored afterwards.
 */
public interface Attack {

    /** A short name with the parameters, for reports (e.g. "fgsm(eps=1)"). */
    String name();

    /** Whether {@code labels} are target classes to reach (true) or true classes to leave (false). */
    boolean targeted();

    /** Adversarial versions of {@code images} ({@code [n, c, h, w]}), a new tensor of the current scope. */
    Tensor perturb(ImageModel model, Tensor images, int[] labels);

    /** Runs the attack and measures it per image (success, distances, confidence). */
    default AttackResult run(ImageModel model, Tensor images, int[] labels) {
        Tensor adv = perturb(model, images, labels);
        return AttackResult.measure(model, images, adv, labels, targeted());
    }
}
