package dev.advinterp.nn.models;

import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.io.HostTensor;
import dev.advinterp.nn.io.SafeTensors;
import dev.advinterp.nn.io.TorchCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Weight files with and without a model configuration, torchvision's layout at any input size, and the width multiplier. */
class ModelFilesTest {

    /** torchvision.models.resnet18(num_classes=10).state_dict(), every tensor an expanded view of one value (tools/fixtures). */
    static Path torchvisionResnet18() throws URISyntaxException {
        return Path.of(ModelFilesTest.class.getResource("/io/resnet18_expanded.pth").toURI());
    }

    @Test
    void aTorchvisionStateDictLoadsWithItsArchitectureAtAnyInputSize() throws Exception {
        Path pth = torchvisionResnet18();
        var e = assertThrows(IllegalArgumentException.class, () -> ModelFiles.load(pth));
        assertTrue(e.getMessage().contains("give --arch"), e.getMessage());
        for (int size : new int[]{224, 64, 32}) {
            try (ImageModel m = ModelFiles.load(pth, new ModelFiles.Bare(Architecture.RESNET18, null, size, null));
                 Scope s = Scope.open()) {
                assertEquals(10, m.config().classes(), "classes read from fc.weight");
                assertEquals(Layout.TORCHVISION, m.config().layout());
                assertArrayEquals(new int[]{64, 3, 7, 7}, m.namedParameters().get("conv1.weight").shape().dims(),
                        "torchvision's 7×7 stem at " + size + " px");
                assertEquals(2, m.call(Tensor.rand(1, 0f, 1f, 2, 3, size, size)).rank());
            }
        }
        e = assertThrows(IllegalArgumentException.class, () -> ModelFiles.load(pth, new ModelFiles.Bare(Architecture.ALEXNET, null, 224, null)));
        assertTrue(e.getMessage().contains("classifier.6.weight"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelFiles.load(pth, new ModelFiles.Bare(Architecture.RESNET18, 1000, 224, null)));
        assertTrue(e.getMessage().contains("fc.weight"), "a wrong class count names the layer that does not fit: " + e.getMessage());
    }

    @Test
    void aConfiguredFileNeedsNoArchitectureAndRefusesAnotherOne(@TempDir Path dir) throws Exception {
        LinkedHashMap<String, HostTensor> sd = TorchCheckpoint.read(torchvisionResnet18());
        ModelConfig c = ModelFiles.checkedConfig(sd, new ModelFiles.Bare(Architecture.RESNET18, null, 32, null), "resnet18.pth");
        Path f = dir.resolve("r.safetensors");
        Map<String, String> meta = new LinkedHashMap<>(c.toMetadata());
        SafeTensors.write(f, sd, meta);
        try (ImageModel m = ModelFiles.load(f)) {
            assertEquals(c, m.config());
            assertEquals(Layout.TORCHVISION, m.config().layout(), "kept at 32 px, where the default would be the small layout");
        }
        var e = assertThrows(IllegalArgumentException.class, () -> ModelFiles.load(f, new ModelFiles.Bare(Architecture.VGG16, null, 32, null)));
        assertTrue(e.getMessage().contains("holds a resnet18"), e.getMessage());
        Path bare = dir.resolve("bare.safetensors");
        SafeTensors.write(bare, sd, Map.of("format", "pt"));
        e = assertThrows(IllegalArgumentException.class, () -> ModelFiles.load(bare));
        assertTrue(e.getMessage().contains("no 'arch' in its metadata"), e.getMessage());
        try (ImageModel m = ModelFiles.load(bare, new ModelFiles.Bare(Architecture.RESNET18, null, 224, null))) {
            assertEquals(10, m.config().classes());
        }
        assertEquals(c, ModelFiles.config(f), "the configuration from the header alone");
        e = assertThrows(IllegalArgumentException.class, () -> ModelFiles.config(bare));
        assertTrue(e.getMessage().contains("no 'arch' in its metadata"), e.getMessage());
    }

    @Test
    void theWidthMultiplierScalesEveryLayerAndKeepsTheKeys() {
        for (Architecture a : Architecture.values()) {
            ModelConfig full = ModelConfig.small(a, 3, 64, 10, 1), thin = full.withWidth(0.25f);
            try (ImageModel f = Models.create(full); ImageModel t = Models.create(thin)) {
                assertEquals(f.namedParameters().keySet(), t.namedParameters().keySet(), a.id());
                assertTrue(t.parameterCount() * 8 < f.parameterCount(), a.id() + ": " + t.parameterCount() + " vs " + f.parameterCount());
                ModelConfig back = ModelConfig.fromMetadata(thin.toMetadata(), "test");
                assertEquals(thin, back, "width and layout survive the metadata");
            }
        }
        ModelConfig old = ModelConfig.fromMetadata(Map.of("arch", "resnet18", "in_channels", "3", "input_size", "32", "classes", "10",
                "mean", "0.5,0.5,0.5", "std", "0.25,0.25,0.25"), "old file");
        assertEquals(Layout.SMALL, old.layout(), "a file without a layout gets the default of its size");
        assertEquals(1f, old.width());
        assertEquals("resnet18 3×32×32, 10 classes", old.toString(), "the defaults do not change the text checkpoints compare");
    }

    @Test
    void torchvisionsLayoutRefusesSizesItsLayersCannotTake() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> Models.create(ModelConfig.small(Architecture.ALEXNET, 3, 32, 10, 1).withLayout(Layout.TORCHVISION)));
        assertTrue(e.getMessage().contains("63 px"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Models.create(ModelConfig.small(Architecture.VGG16, 3, 28, 10, 1).withLayout(Layout.TORCHVISION)));
        assertTrue(e.getMessage().contains("32 px"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.small(Architecture.RESNET18, 3, 32, 2_000_000, 1));
        assertTrue(e.getMessage().contains("beyond the supported limits"), e.getMessage());
    }

    /** A 184-byte file whose metadata said classes=1000000 once built a 4.2 GB model before saying it did not fit. */
    @Test
    void metadataThatDisagreesWithTheWeightsIsRefusedBeforeAnythingIsBuilt(@TempDir Path dir) throws Exception {
        ModelConfig c = ModelConfig.small(Architecture.RESNET18, 3, 32, 10, 1).withWidth(0.125f);
        Path f = dir.resolve("m.safetensors");
        try (ImageModel m = Models.create(c)) {
            ModelFiles.save(f, m);
        }
        LinkedHashMap<String, HostTensor> tiny = new LinkedHashMap<>();
        tiny.put("fc.weight", HostTensor.ofFloats(new float[8], 2, 4));
        Map<String, String> meta = new LinkedHashMap<>(c.toMetadata());
        meta.put("classes", "50000"); // within the limits: the shapes of the weights must catch it
        Path hostile = dir.resolve("hostile.safetensors");
        SafeTensors.write(hostile, tiny, meta);
        long before = allocated();
        var e = assertThrows(IllegalArgumentException.class, () -> ModelFiles.load(hostile));
        assertTrue(e.getMessage().contains(hostile.toString()) && e.getMessage().contains("but it holds only 8 values"), e.getMessage());
        assertTrue(allocated() - before < 64L << 20, (allocated() - before) + " bytes allocated");
        meta.put("classes", "1000000");
        SafeTensors.write(hostile, tiny, meta);
        e = assertThrows(IllegalArgumentException.class, () -> ModelFiles.load(hostile));
        assertTrue(e.getMessage().contains(hostile.toString()) && e.getMessage().contains("beyond the supported limits"), e.getMessage());
        meta.put("classes", "garbage");
        SafeTensors.write(hostile, tiny, meta);
        e = assertThrows(IllegalArgumentException.class, () -> ModelFiles.load(hostile));
        assertTrue(e.getMessage().contains("'classes' is 'garbage', not a whole number"), e.getMessage());
        // the real weights with one class too many in the metadata: the classifier's shape says otherwise
        LinkedHashMap<String, HostTensor> real = SafeTensors.read(f);
        meta = new LinkedHashMap<>(c.toMetadata());
        meta.put("classes", "11");
        SafeTensors.write(hostile, real, meta);
        e = assertThrows(IllegalArgumentException.class, () -> ModelFiles.load(hostile));
        assertTrue(e.getMessage().contains("fc.weight is [10, 64]"), e.getMessage());
    }

    @Test
    void weightsHoldingNaNAreNamedWhenLoaded(@TempDir Path dir) throws Exception {
        ModelConfig c = ModelConfig.small(Architecture.RESNET18, 3, 32, 10, 1).withWidth(0.125f);
        Path f = dir.resolve("m.safetensors");
        try (ImageModel m = Models.create(c)) {
            LinkedHashMap<String, HostTensor> sd = m.stateDict();
            float[] w = sd.get("layer2.0.conv1.weight").toFloats();
            w[3] = Float.NaN;
            sd.put("layer2.0.conv1.weight", HostTensor.ofFloats(w, sd.get("layer2.0.conv1.weight").shape()));
            Map<String, String> meta = new LinkedHashMap<>(c.toMetadata());
            SafeTensors.write(f, sd, meta);
        }
        var e = assertThrows(IllegalArgumentException.class, () -> ModelFiles.load(f));
        assertTrue(e.getMessage().contains("layer2.0.conv1.weight holds NaN"), e.getMessage());
    }

    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    @Test
    void theParameterCountFromTheConfigurationIsThatOfTheBuiltModel() {
        for (Architecture a : Architecture.values()) {
            for (int size : new int[]{32, 64, 96}) {
                for (Layout l : Layout.values()) {
                    for (float w : new float[]{0.125f, 0.25f}) {
                        ModelConfig c = ModelConfig.small(a, 3, size, 7, 1).withLayout(l).withWidth(w);
                        ImageModel m;
                        try {
                            m = Models.create(c);
                        } catch (IllegalArgumentException e) {
                            continue; // a layout its layers cannot take at this size
                        }
                        try (m) {
                            assertEquals(m.parameterCount(), Models.parameterCount(c), c.toString());
                        }
                    }
                }
            }
        }
    }
}
