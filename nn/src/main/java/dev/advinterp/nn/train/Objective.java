package dev.advinterp.nn.train;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.models.ImageModel;

/**
 * What a training step minimises. It runs inside the trainer's recording tape and returns the
 * loss to differentiate and the clean logits (for the running accuracy). The default is the
 * cross-entropy of the clean images; adversarial training supplies its own.
 */
@FunctionalInterface
public interface Objective {

    record Output(Tensor loss, Tensor logits) {
    }

    Output compute(ImageModel model, Tensor images, int[] labels);

    /** Mean softmax cross-entropy on the clean images. */
    static Objective crossEntropy() {
        return (model, images, labels) -> {
            Tensor logits = model.call(images);
            return new Output(Ops.softmaxCrossEntropy(logits, labels), logits);
        };
    }
}
