package dev.advinterp.nn.golden;

import dev.advinterp.engine.Gradients;
import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tape;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.Module;
import dev.advinterp.nn.io.HostTensor;
import dev.advinterp.nn.io.TorchCheckpoint;
import dev.advinterp.nn.layers.Dropout;
import dev.advinterp.nn.models.Architecture;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.models.ModelConfig;
import dev.advinterp.nn.models.Models;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.advinterp.nn.golden.Golden.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The small configurations against PyTorch (tools/fixtures/make_model_fixtures.py). The weights
 * come from a torchvision-format .pth written by torch.save of the torchvision model's state dict
 * and loaded strictly, so each case is also the convert check of its architecture. Relative
 * errors as {@link Golden} defines them: logits and losses below 1e-4; the input gradient, the
 * running statistics and the parameters after one SGD step below 1e-3; and the step itself,
 * p_after − p_before, below 1e-2, which catches what the parameters alone cannot (weight decay
 * moves a parameter by only 5e-5 of its size). Where PyTorch's step is the weight decay alone,
 * within 0.25 (conv biases that feed a batch norm: their gradient is zero in exact arithmetic,
 * but float32 sums, PyTorch's as well as ours, leave rounding noise of a few percent of that tiny
 * step), the step is compared within 0.25, which still fails a missing or doubled weight decay.
 */
class GoldenSmallModelTest {
    static final double OUTPUT_TOL = 1e-4, GRAD_TOL = 1e-3, UPDATE_TOL = 1e-2, DECAY_ONLY_TOL = 0.25;
    static final float LR = 0.1f, MOMENTUM = 0.9f, WEIGHT_DECAY = 5e-4f;

    private static ImageModel load(Golden.Case c) throws IOException {
        ModelConfig config = new ModelConfig(Architecture.parse(c.meta().get("arch")), c.metaInt("channels"), c.metaInt("size"),
                c.metaInt("classes"), c.floats("mean"), c.floats("std"), 0L);
        ImageModel model = Models.create(config);
        model.loadStateDict(TorchCheckpoint.read(Golden.resource(c.name() + ".pth")), true);
        return model;
    }

    @ParameterizedTest
    @ValueSource(strings = {"alexnet_c3s32", "vgg16_c3s32", "vgg16_bn_c3s32", "resnet18_c3s32", "vgg16_c1s28"})
    void evalLogitsLossAndInputGradientMatchPyTorch(String name) throws IOException {
        Golden.Case c = Golden.Case.read(name);
        try (ImageModel model = load(c); Scope s = Scope.open(); Tape tape = Tape.start()) {
            model.eval();
            Tensor x = tape.watch(Tensor.of(c.floats("input"), c.dims("input")));
            Tensor logits = model.call(x);
            Tensor loss = Ops.softmaxCrossEntropy(logits, c.labels());
            Gradients g = tape.backward(loss);
            assertArrayEquals(c.dims("logits"), logits.shape().dims());
            assertClose(name + " logits", logits.toArray(), c.floats("logits"), OUTPUT_TOL);
            assertClose(name + " loss", loss.toArray(), c.floats("loss"), OUTPUT_TOL);
            assertClose(name + " input gradient", g.of(x).toArray(), c.floats("input_grad"), GRAD_TOL);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"alexnet_c3s32", "vgg16_c3s32", "vgg16_bn_c3s32", "resnet18_c3s32", "vgg16_c1s28"})
    void oneSgdStepInTrainModeMatchesPyTorch(String name) throws IOException {
        Golden.Case c = Golden.Case.read(name);
        for (boolean nesterov : new boolean[]{false, true}) {
            String step = nesterov ? "nesterov" : "sgd";
            try (ImageModel model = load(c); Scope s = Scope.open(); Tape tape = Tape.start()) {
                model.train(true);
                // batch norm on batch statistics, but no random masks: PyTorch's would differ
                for (Module m : model.namedModules().values()) {
                    if (m instanceof Dropout) m.train(false);
                }
                LinkedHashMap<String, float[]> before = new LinkedHashMap<>();
                model.namedParameters().forEach((k, p) -> before.put(k, Golden.sample(p.toArray(), Golden.SAMPLES)));

                Tensor loss = Ops.softmaxCrossEntropy(model.call(Tensor.of(c.floats("input"), c.dims("input"))), c.labels());
                Gradients g = tape.backward(loss);
                for (Tensor p : model.parameters()) {
                    Ops.sgdStep(p, g.of(p), Tensor.zeros(p.shape()), LR, MOMENTUM, WEIGHT_DECAY, nesterov);
                }

                if (!nesterov) {
                    assertClose(name + " train-mode loss", loss.toArray(), c.floats("train.loss"), OUTPUT_TOL);
                    LinkedHashMap<String, HostTensor> state = model.stateDict();
                    for (String buffer : model.namedBuffers().keySet()) {
                        assertClose(name + " " + buffer, state.get(buffer).toFloats(), c.floats("train." + buffer), GRAD_TOL);
                    }
                    for (Map.Entry<String, HostTensor> e : state.entrySet()) {
                        if (e.getKey().endsWith("num_batches_tracked")) {
                            assertArrayEquals(c.get("train." + e.getKey()).toLongs(), e.getValue().toLongs(), name + " " + e.getKey());
                        }
                    }
                }
                int checked = 0;
                for (Map.Entry<String, Tensor> e : model.namedParameters().entrySet()) {
                    String what = name + " " + step + " " + e.getKey();
                    float[] expected = c.floats(step + "." + e.getKey());
                    float[] actual = Golden.sample(e.getValue().toArray(), Golden.SAMPLES);
                    assertClose(what, actual, expected, GRAD_TOL);
                    float[] p0 = before.get(e.getKey());
                    float[] update = minus(expected, p0);
                    boolean decayOnly = Golden.relErr(decayStep(p0, nesterov), update) < DECAY_ONLY_TOL;
                    assertClose(what + (decayOnly ? " update (decay only)" : " update"), minus(actual, p0), update,
                            decayOnly ? DECAY_ONLY_TOL : UPDATE_TOL);
                    checked++;
                }
                assertEquals(c.arrays().keySet().stream().filter(k -> k.startsWith(step + ".")).count(), checked,
                        "every parameter of the fixture is checked");
            }
        }
    }

    /** The first step of PyTorch's SGD on a zero gradient: −lr·wd·p, times 1 + momentum with Nesterov. */
    private static float[] decayStep(float[] p, boolean nesterov) {
        double k = -LR * WEIGHT_DECAY * (nesterov ? 1 + (double) MOMENTUM : 1);
        float[] out = new float[p.length];
        for (int i = 0; i < p.length; i++) out[i] = (float) (k * p[i]);
        return out;
    }

    private static float[] minus(float[] a, float[] b) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i] - b[i];
        return out;
    }
}
