package dev.advinterp.nn.models;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.Activations;
import dev.advinterp.nn.io.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

class ModelStructureTest {

    /** The keys, element types and shapes torchvision's state_dict() has (tools/fixtures/model_keys.py). */
    private static List<String> torchvisionKeys(Architecture a) throws IOException {
        try (InputStream in = ModelStructureTest.class.getResourceAsStream("/models/" + a.id() + "-keys.txt")) {
            assertNotNull(in, "fixture for " + a);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(String::strip).collect(Collectors.toList());
        }
    }

    private static List<String> ourKeys(Map<String, HostTensor> state) {
        List<String> out = new ArrayList<>();
        state.forEach((k, v) -> out.add((k + " " + (v.dtype().isFloatingPoint() ? "float32" : "int64") + " "
                + Arrays.stream(v.shape()).mapToObj(Long::toString).collect(Collectors.joining(","))).strip()));
        return out;
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void stateDictMatchesTorchvisionAtFullSize(Architecture a) throws IOException {
        try (ImageModel m = Models.create(ModelConfig.imagenet(a, 1))) {
            assertEquals(torchvisionKeys(a), ourKeys(m.stateDict()));
        }
    }

    @ParameterizedTest
    @EnumSource(Architecture.class)
    void smallConfigurationsKeepTheKeysAndRun(Architecture a) throws IOException {
        List<String> names = torchvisionKeys(a).stream().map(l -> l.split(" ")[0]).toList();
        for (int size : new int[]{28, 32, 64}) {
            ModelConfig c = ModelConfig.small(a, size == 28 ? 1 : 3, size, 10, 3);
            try (ImageModel m = Models.create(c); Scope s = Scope.open()) {
                assertEquals(names, new ArrayList<>(m.stateDict().keySet()), c.toString());
                m.eval();
                try (Activations cap = Activations.capture(m.phiLayer())) {
                    Tensor logits = m.call(Tensor.rand(5, 0f, 1f, 2, c.inChannels(), size, size));
                    assertEquals(List.of(2, 10), Arrays.stream(logits.shape().dims()).boxed().toList(), c.toString());
                    Tensor phi = cap.get(m.phiLayer());
                    assertEquals(4, phi.rank());
                    for (float v : phi.toArray()) assertTrue(v >= 0f, "φ is taken after a ReLU");
                }
            }
        }
    }

    @Test
    void phiLayersAreTheLastConvolutionsAfterTheirReLU() {
        assertEquals("features.11", Models.create(ModelConfig.small(Architecture.ALEXNET, 3, 32, 10, 1)).phiLayer());
        assertEquals("features.29", Models.create(ModelConfig.small(Architecture.VGG16, 3, 32, 10, 1)).phiLayer());
        assertEquals("features.42", Models.create(ModelConfig.small(Architecture.VGG16_BN, 3, 32, 10, 1)).phiLayer());
        assertEquals("layer4", Models.create(ModelConfig.small(Architecture.RESNET18, 3, 32, 10, 1)).phiLayer());
    }

    @Test
    void sameSeedSameWeightsOtherSeedOtherWeights() {
        try (ImageModel a = Models.create(ModelConfig.small(Architecture.RESNET18, 3, 32, 10, 7));
             ImageModel b = Models.create(ModelConfig.small(Architecture.RESNET18, 3, 32, 10, 7));
             ImageModel c = Models.create(ModelConfig.small(Architecture.RESNET18, 3, 32, 10, 8))) {
            assertEquals(a.stateDict(), b.stateDict());
            assertNotEquals(a.stateDict(), c.stateDict());
        }
    }

    @Test
    void loadStateDictRoundTripsAndRejectsMismatches() {
        try (ImageModel a = Models.create(ModelConfig.small(Architecture.RESNET18, 3, 32, 10, 1));
             ImageModel b = Models.create(ModelConfig.small(Architecture.RESNET18, 3, 32, 10, 2))) {
            var state = a.stateDict();
            b.loadStateDict(state, true);
            assertEquals(state, b.stateDict());

            var wrongShape = new java.util.LinkedHashMap<>(state);
            wrongShape.put("fc.weight", HostTensor.ofFloats(new float[20], 2, 10));
            var e = assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(wrongShape, true));
            assertTrue(e.getMessage().contains("fc.weight") && e.getMessage().contains("[2, 10]"), e.getMessage());

            var missing = new java.util.LinkedHashMap<>(state);
            missing.remove("layer1.0.conv1.weight");
            e = assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(missing, true));
            assertTrue(e.getMessage().contains("missing: [layer1.0.conv1.weight]"), e.getMessage());

            var extra = new java.util.LinkedHashMap<>(state);
            extra.put("head.weight", HostTensor.ofFloats(new float[1], 1));
            e = assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(extra, true));
            assertTrue(e.getMessage().contains("unexpected: [head.weight]"), e.getMessage());
            b.loadStateDict(extra, false);
        }
    }

    @Test
    void wrongInputIsAClearError() {
        try (ImageModel m = Models.create(ModelConfig.small(Architecture.ALEXNET, 1, 28, 10, 1)); Scope s = Scope.open()) {
            var e = assertThrows(IllegalArgumentException.class, () -> m.call(Tensor.zeros(2, 3, 28, 28)));
            assertTrue(e.getMessage().contains("[2, 3, 28, 28]"), e.getMessage());
        }
    }

    @Test
    void trainingUpdatesBatchNormStatisticsAndCounter() {
        try (ImageModel m = Models.create(ModelConfig.small(Architecture.RESNET18, 3, 32, 10, 1)); Scope s = Scope.open()) {
            m.train(true);
            m.call(Tensor.rand(3, 0f, 1f, 4, 3, 32, 32));
            assertEquals(1L, m.stateDict().get("bn1.num_batches_tracked").toLongs()[0]);
            assertNotEquals(0f, m.stateDict().get("bn1.running_mean").toFloats()[0]);
            m.eval();
            m.call(Tensor.rand(3, 0f, 1f, 4, 3, 32, 32));
            assertEquals(1L, m.stateDict().get("bn1.num_batches_tracked").toLongs()[0]);
        }
    }
}
