package dev.advinterp.nn.golden;

import dev.advinterp.engine.Gradients;
import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tape;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.models.Architecture;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.models.ModelConfig;
import dev.advinterp.nn.models.Models;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Map;

import static dev.advinterp.nn.golden.Golden.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The architectures at torchvision's full size (3×224×224, 1000 classes, ImageNet normalisation,
 * eval mode, batch 1) against PyTorch, with the closed-form weights and input of
 * {@link GoldenWeights} (first checked bit for bit against values the script stored). Logits and
 * loss: relative error below 1e-4. Input gradient of the mean cross-entropy: see
 * {@link Golden#assertCloseAcrossKinks} with tolerance 1e-3; at this size a float32 kink flip
 * somewhere is likely, and no input keeps all of them away (which units flip depends on the
 * convolution's summation order: im2col and oneDNN flip different ones).
 */
class GoldenFullSizeTest {

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void logitsLossAndInputGradientMatchPyTorch(Architecture arch) {
        Golden.Case c = Golden.Case.read(arch.id() + "_224");
        try (ImageModel model = Models.create(ModelConfig.imagenet(arch, 0L)); Scope s = Scope.open(); Tape tape = Tape.start()) {
            Map<String, float[]> formula = GoldenWeights.fill(model, 16);
            formula.put("input", Golden.sample(GoldenWeights.input(1, 3, 224), 16));
            for (var e : formula.entrySet()) {
                assertArrayEquals(c.floats("formula." + e.getKey()), e.getValue(), "formula values of " + e.getKey());
            }
            for (Tensor p : model.parameters()) p.requiresGrad(false); // only the input gradient is compared
            model.eval();
            Tensor x = tape.watch(Tensor.of(GoldenWeights.input(1, 3, 224), 1, 3, 224, 224));
            Tensor logits = model.call(x);
            Tensor loss = Ops.softmaxCrossEntropy(logits, c.labels());
            Gradients g = tape.backward(loss);
            String name = arch.id() + "_224";
            assertClose(name + " logits", logits.toArray(), c.floats("logits"), GoldenSmallModelTest.OUTPUT_TOL);
            assertClose(name + " loss", loss.toArray(), c.floats("loss"), GoldenSmallModelTest.OUTPUT_TOL);
            Golden.assertCloseAcrossKinks(name + " input gradient", g.of(x).toArray(), c.floats("input_grad"), GoldenSmallModelTest.GRAD_TOL);
        }
    }
}
