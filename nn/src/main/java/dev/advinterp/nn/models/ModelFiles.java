package dev.advinterp.nn.models;

import dev.advinterp.nn.io.HostTensor;
import dev.advinterp.nn.io.SafeTensors;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/** Weight files that carry their model configuration in the safetensors metadata. */
public final class ModelFiles {
    private ModelFiles() {
    }

    public static void save(Path file, ImageModel model) throws IOException {
        Map<String, String> meta = new HashMap<>(model.config().toMetadata());
        meta.put("format", "advinterp-model-1");
        SafeTensors.write(file, model.stateDict(), meta);
    }

    /** A model from a file written by {@link #save} or a training checkpoint (its {@code model.} entries). */
    public static ImageModel load(Path file) throws IOException {
        Map<String, String> meta = SafeTensors.readHeader(file).metadata();
        boolean checkpoint = "advinterp-training-checkpoint-1".equals(meta.get("format"));
        ModelConfig config = checkpoint ? configOfCheckpoint(meta, file) : ModelConfig.fromMetadata(meta, file.toString());
        LinkedHashMap<String, HostTensor> state = SafeTensors.read(file), weights = new LinkedHashMap<>();
        state.forEach((k, v) -> {
            if (!checkpoint) weights.put(k, v);
            else if (k.startsWith("model.")) weights.put(k.substring("model.".length()), v);
        });
        ImageModel m = Models.create(config);
        try {
            m.loadStateDict(weights, true);
        } catch (IllegalArgumentException e) {
            m.close();
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
        return m;
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
