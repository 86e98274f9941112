package dev.advinterp.nn.train;

import dev.advinterp.nn.io.HostTensor;
import dev.advinterp.nn.io.SafeTensors;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.optim.Sgd;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything a run needs to continue: the model's state dict (keys prefixed {@code model.}), the
 * optimiser's momentum buffers ({@code optimizer.}), and in the safetensors metadata the next
 * epoch, the global step, the run's seed, the model configuration and the metrics so far. Written
 * atomically (temporary file, then rename).
 */
public record TrainingCheckpoint(int nextEpoch, long step, long seed, String config, List<EpochStats> history) {

    private static final String MODEL = "model.", OPTIMIZER = "optimizer.";

    private static long field(Map<String, String> meta, String key, Path file) {
        String v = meta.get(key);
        if (v == null) throw new IllegalArgumentException(file + ": the checkpoint metadata has no '" + key + "'; the checkpoint is damaged");
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(file + ": the checkpoint metadata's '" + key + "' is '" + clip(v) + "', not a whole number; "
                    + "the checkpoint is damaged");
        }
    }

    private static String clip(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "…" : s;
    }

    public static void save(Path file, ImageModel model, Sgd sgd, TrainingCheckpoint state) throws IOException {
        LinkedHashMap<String, HostTensor> tensors = new LinkedHashMap<>();
        model.stateDict().forEach((k, v) -> tensors.put(MODEL + k, v));
        sgd.state().forEach((k, v) -> tensors.put(OPTIMIZER + k, v));
        StringBuilder hist = new StringBuilder();
        for (EpochStats e : state.history()) hist.append(e.csv()).append(';');
        Map<String, String> meta = new java.util.HashMap<>(Map.of(
                "format", "advinterp-training-checkpoint-1",
                "next_epoch", Integer.toString(state.nextEpoch()),
                "step", Long.toString(state.step()),
                "seed", Long.toString(state.seed()),
                "config", state.config(),
                "history", hist.toString()));
        // the model's configuration too, so that the checkpoint alone rebuilds the model
        model.config().toMetadata().forEach((k, v) -> meta.put("model_" + k, v));
        Path dir = file.toAbsolutePath().getParent();
        if (dir != null) java.nio.file.Files.createDirectories(dir);
        SafeTensors.write(file, tensors, meta);
    }

    /** Reads a checkpoint into the model and optimiser and returns the run state. */
    public static TrainingCheckpoint load(Path file, ImageModel model, Sgd sgd) throws IOException {
        Map<String, String> meta = SafeTensors.readHeader(file).metadata();
        if (!"advinterp-training-checkpoint-1".equals(meta.get("format"))) {
            throw new IllegalArgumentException(file + " is not a training checkpoint of this program (no format marker); "
                    + "to start from plain weights, load them into the model instead");
        }
        String config = meta.getOrDefault("config", "");
        if (!config.equals(model.config().toString())) {
            throw new IllegalArgumentException(file + " was written for " + config + ", not for " + model.config());
        }
        LinkedHashMap<String, HostTensor> all = SafeTensors.read(file);
        LinkedHashMap<String, HostTensor> m = new LinkedHashMap<>(), o = new LinkedHashMap<>();
        all.forEach((k, v) -> {
            if (k.startsWith(MODEL)) m.put(k.substring(MODEL.length()), v);
            else if (k.startsWith(OPTIMIZER)) o.put(k.substring(OPTIMIZER.length()), v);
        });
        // The run state is checked before the model and optimiser are touched.
        List<EpochStats> history = new ArrayList<>();
        String[] lines = meta.getOrDefault("history", "").split(";");
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].isBlank()) continue;
            try {
                history.add(EpochStats.parseCsv(lines[i]));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(file + ": the metrics of epoch " + (i + 1) + " in the checkpoint metadata ('history') are not "
                        + "seven numbers: '" + clip(lines[i]) + "'; the checkpoint is damaged");
            }
        }
        TrainingCheckpoint state = new TrainingCheckpoint((int) field(meta, "next_epoch", file), field(meta, "step", file), field(meta, "seed", file),
                config, history);
        model.loadStateDict(m, true);
        sgd.loadState(o);
        return state;
    }
}
