package dev.advinterp.nn.models;

import dev.advinterp.nn.io.HostTensor;
import dev.advinterp.nn.io.SafeTensors;
import dev.advinterp.nn.io.SafeTensorsHeader;
import dev.advinterp.nn.io.TorchCheckpoint;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Model weight files. Those written by the program ({@link #save}, training checkpoints, and
 * {@code advinterp convert --arch}) carry the model configuration in their safetensors metadata
 * and rebuild the model alone. A bare state dict (torchvision's weights, as a {@code .pth} file
 * written by {@code torch.save} or converted to safetensors without {@code --arch}) says nothing of
 * the model: it loads with a {@link Bare} description of it.
 */
public final class ModelFiles {
    private ModelFiles() {
    }

    /**
     * What a bare state dict is: the architecture, and the input the model is to take. torchvision's
     * weights are for its layout and ImageNet's normalisation; the class count is read from the
     * classifier's weight when not given.
     *
     * @param classes   null: from the last layer's weight
     * @param inputSize the side of the square input (torchvision's: 224)
     * @param layout    null: {@link Layout#TORCHVISION}, what torchvision's weights were trained with
     */
    public record Bare(Architecture arch, Integer classes, int inputSize, Layout layout) {
        public Bare {
            if (inputSize < 28 || inputSize > ModelConfig.MAX_INPUT_SIZE) {
                throw new IllegalArgumentException("--input-size must be between 28 and " + ModelConfig.MAX_INPUT_SIZE + ", got " + inputSize);
            }
            if (classes != null && (classes <= 0 || classes > ModelConfig.MAX_CLASSES)) {
                throw new IllegalArgumentException("--classes must be between 1 and " + ModelConfig.MAX_CLASSES + ", got " + classes);
            }
        }

        /** The configuration for these weights. */
        public ModelConfig config(Map<String, HostTensor> state, String source) {
            int n = classes != null ? classes : classesOf(state, source);
            return ModelConfig.imagenet(arch, 0).withClasses(n).withLayout(layout == null ? Layout.TORCHVISION : layout).withInput(inputSize);
        }

        private int classesOf(Map<String, HostTensor> state, String source) {
            String key = switch (arch) {
                case RESNET18 -> "fc.weight";
                case ALEXNET, VGG16, VGG16_BN -> "classifier.6.weight";
            };
            HostTensor w = state.get(key);
            if (w == null || w.shape().length != 2) {
                throw new IllegalArgumentException(source + " has no " + key + " of rank 2, so it is not a torchvision " + arch.id()
                        + " state dict (its first keys: " + state.keySet().stream().limit(5).toList() + ")");
            }
            long n = w.shape()[0];
            if (n <= 0 || n > ModelConfig.MAX_CLASSES) throw new IllegalArgumentException(source + ": " + key + " has " + n + " rows, not a class count");
            return (int) n;
        }
    }

    public static void save(Path file, ImageModel model) throws IOException {
        Map<String, String> meta = new HashMap<>(model.config().toMetadata());
        meta.put("format", "advinterp-model-1");
        SafeTensors.write(file, model.stateDict(), meta);
    }

    /** A model from a file written by {@link #save}, {@code convert --arch} or a training checkpoint (its {@code model.} entries). */
    public static ImageModel load(Path file) throws IOException {
        return load(file, null);
    }

    /**
     * The configuration a file written by {@link #save} (or {@code convert --arch}) carries, read
     * from its header alone: no weights are loaded.
     */
    public static ModelConfig config(Path file) throws IOException {
        Map<String, String> meta = SafeTensors.readHeader(file).metadata();
        if (!meta.containsKey("arch")) throw new IllegalArgumentException(file + " does not say which model it holds (no 'arch' in its metadata)");
        return ModelConfig.fromMetadata(meta, file.toString());
    }

    /**
     * A model from any weight file: one that carries its configuration (then {@code bare}, if given,
     * must agree on the architecture), or a bare state dict ({@code .pth} or safetensors) built as
     * {@code bare} says.
     */
    public static ImageModel load(Path file, Bare bare) throws IOException {
        if (!java.nio.file.Files.isRegularFile(file)) {
            if (!java.nio.file.Files.exists(file)) throw new java.nio.file.NoSuchFileException(file.toString());
            throw new IllegalArgumentException(file + " is not a weight file (a folder or device); give the model.safetensors in it");
        }
        if (isPyTorchFile(file)) {
            if (bare == null) {
                throw new IllegalArgumentException(file + " is a PyTorch state dict, which does not say which model it holds; give --arch "
                        + "(alexnet, vgg16, vgg16_bn or resnet18), or convert it with 'advinterp convert --arch'");
            }
            LinkedHashMap<String, HostTensor> state = TorchCheckpoint.read(file);
            return build(bare.config(state, file.toString()), state, file);
        }
        SafeTensorsHeader header = SafeTensors.readHeader(file);
        Map<String, String> meta = header.metadata();
        boolean checkpoint = "advinterp-training-checkpoint-1".equals(meta.get("format"));
        boolean configured = checkpoint || meta.containsKey("arch");
        if (!configured && bare == null) {
            throw new IllegalArgumentException(file + " does not say which model it holds (no 'arch' in its metadata): if it is a torchvision "
                    + "state dict, give --arch (and --classes, --input-size where they differ from torchvision's)");
        }
        ModelConfig config = null;
        if (configured) {
            config = checkpoint ? configOfCheckpoint(meta, file) : ModelConfig.fromMetadata(meta, file.toString());
            if (bare != null && bare.arch() != config.arch()) {
                throw new IllegalArgumentException(file + " holds a " + config.arch().id() + ", not the " + bare.arch().id() + " --arch names");
            }
            // Before anything is allocated: the configuration must be that of the weights the file holds,
            // so that a few bytes of metadata cannot make the program build a model of gigabytes.
            checkShapes(config, header, checkpoint ? "model." : "", file);
        }
        LinkedHashMap<String, HostTensor> state = SafeTensors.read(file), weights = new LinkedHashMap<>();
        state.forEach((k, v) -> {
            if (!checkpoint) weights.put(k, v);
            else if (k.startsWith("model.")) weights.put(k.substring("model.".length()), v);
        });
        if (config == null) config = bare.config(weights, file.toString());
        return build(config, weights, file);
    }

    /**
     * The configuration of a bare state dict as {@code bare} describes it, checked by loading the
     * weights into that model (and releasing it): what {@code convert --arch} writes into the file.
     */
    public static ModelConfig checkedConfig(Map<String, HostTensor> weights, Bare bare, String source) {
        ModelConfig config = bare.config(weights, source);
        try (ImageModel m = build(config, weights, Path.of(source))) {
            return m.config();
        }
    }

    /**
     * The first convolution and the classifier of each architecture, whose shapes pin the
     * configuration down, and the file must hold at least as many values as the model has parameters.
     */
    private static void checkShapes(ModelConfig c, SafeTensorsHeader header, String prefix, Path file) {
        long held = 0;
        for (var e : header.tensors().entrySet()) {
            if (e.getKey().startsWith(prefix) && e.getValue().dtype().isFloatingPoint()) held += e.getValue().byteSize() / e.getValue().dtype().bytes();
        }
        long needed = Models.parameterCount(c);
        if (held < needed) {
            throw new IllegalArgumentException(file + ": its metadata describes a " + c + " of " + needed + " parameters, but it holds only " + held
                    + " values; the metadata and the weights disagree (a damaged or hand-edited file)");
        }
        String stem = c.arch() == Architecture.RESNET18 ? "conv1.weight" : "features.0.weight";
        String head = c.arch() == Architecture.RESNET18 ? "fc.weight" : "classifier.6.weight";
        for (String key : new String[]{stem, head}) {
            SafeTensorsHeader.Entry e = header.tensors().get(prefix + key);
            if (e == null) {
                throw new IllegalArgumentException(file + ": its metadata describes a " + c + " but it holds no " + prefix + key
                        + " (the weights of another model, or a damaged file)");
            }
            long[] s = e.shape();
            boolean ok = key.equals(stem) ? s.length == 4 && s[0] == c.scaled(64) && s[1] == c.inChannels()
                    : s.length == 2 && s[0] == c.classes();
            if (!ok) {
                throw new IllegalArgumentException(file + ": its metadata describes a " + c + " but " + prefix + key + " is "
                        + java.util.Arrays.toString(s) + "; the metadata and the weights disagree (a damaged or hand-edited file)");
            }
        }
    }

    private static ImageModel build(ModelConfig config, Map<String, HostTensor> weights, Path file) {
        for (Map.Entry<String, HostTensor> e : weights.entrySet()) {
            if (!e.getValue().dtype().isFloatingPoint()) continue;
            float[] v = e.getValue().toFloats();
            for (float x : v) {
                if (!Float.isFinite(x)) {
                    throw new IllegalArgumentException(file + ": tensor " + e.getKey() + " holds " + x + " values; the weights are damaged, "
                            + "or the training that wrote them diverged");
                }
            }
        }
        ImageModel m;
        try {
            m = Models.create(config);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
        try {
            m.loadStateDict(weights, true);
        } catch (IllegalArgumentException e) {
            m.close();
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
        return m;
    }

    /** Whether the file is a {@code torch.save} zip (it starts as a zip archive does). */
    public static boolean isPyTorchFile(Path file) throws IOException {
        try (var in = java.nio.file.Files.newInputStream(file)) {
            byte[] head = in.readNBytes(4);
            return head.length == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
        }
    }

    /**
     * A fingerprint of the model's configuration and weights (SHA-256 of the configuration and of
     * every state-dict entry's name, shape and bytes, first 16 hex digits): the same weights give
     * the same fingerprint whichever file they came from, so a run can tell that it is resumed on
     * the model it started with.
     */
    public static String fingerprint(ImageModel model) {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            md.update(model.config().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            model.stateDict().forEach((k, v) -> {
                md.update(k.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                md.update(java.util.Arrays.toString(v.shape()).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                md.update(v.data());
            });
            return java.util.HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("this Java has no SHA-256", e);
        }
    }

    private static ModelConfig configOfCheckpoint(Map<String, String> meta, Path file) {
        Map<String, String> m = new HashMap<>();
        meta.forEach((k, v) -> {
            if (k.startsWith("model_")) m.put(k.substring("model_".length()), v);
        });
        return ModelConfig.fromMetadata(m, file.toString());
    }
}
