package dev.advinterp.experiments.cli;

import dev.advinterp.nn.io.HostTensor;
import dev.advinterp.nn.io.SafeTensors;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.models.ModelConfig;
import dev.advinterp.nn.models.Models;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/** Weight files that carry their model configuration in the safetensors metadata. */
final class ModelFiles {
    private ModelFiles() {
    }

    static void save(Path file, ImageModel model) throws IOException {
        Map<String, String> meta = new HashMap<>(model.config().toMetadata());
        meta.put("format", "advinterp-model-1");
        SafeTensors.write(file, model.stateDict(), meta);
    }

    /** A model from a file written by {@link #save} or a training checkpoint (its {@code model.} entries). */
    static ImageModel load(Path file) throws IOException {
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

    private static ModelConfig configOfCheckpoint(Map<String, String> meta, Path file) {
        Map<String, String> m = new HashMap<>();
        meta.forEach((k, v) -> {
            if (k.startsWith("model_")) m.put(k.substring("model_".length()), v);
        });
        return ModelConfig.fromMetadata(m, file.toString());
    }
}
