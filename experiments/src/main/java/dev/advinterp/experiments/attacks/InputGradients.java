package dev.advinterp.experiments.attacks;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Tape;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.models.ImageModel;

/** The input gradients attacks step along. */
final class InputGradients {
    private InputGradients() {
    }

    /** ∂ mean CE(model(x), labels) / ∂x, a tensor of the current scope (only the input gradient is computed). */
    static Tensor ofCrossEntropy(ImageModel model, Tensor x, int[] labels) {
        try (Tape tape = Tape.start()) {
            tape.watch(x);
            Tensor loss = Ops.softmaxCrossEntropy(model.call(x), labels);
            return tape.gradients(loss, x).of(x);
        }
    }

}
