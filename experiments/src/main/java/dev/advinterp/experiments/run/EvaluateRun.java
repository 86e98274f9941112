package dev.advinterp.experiments.run;

import dev.advinterp.engine.io.AtomicFile;
import dev.advinterp.experiments.activations.ActivationRecorder;
import dev.advinterp.experiments.activations.Recording;
import dev.advinterp.experiments.attacks.AttackSpec;
import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.experiments.io.Csv;
import dev.advinterp.experiments.metrics.accuracy.Accuracy;
import dev.advinterp.nn.io.Json;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Table 3 for one model: top-1 and top-5 accuracy on the clean images of a set and on their
 * adversarial versions (the paper: FGSM, ε = 1), from one recorded pass ({@link Recording}; a pass
 * interrupted in a run folder continues). Writes {@code accuracy.csv} and {@code accuracy.json};
 * the per-image predictions can be written as a CSV of their own.
 */
public final class EvaluateRun {
    public static final String RECORD = "record", CSV = "accuracy.csv", JSON = "accuracy.json";
    public static final List<String> OUTPUTS = List.of(RECORD, CSV, JSON);

    private EvaluateRun() {
    }

    /** Records (or continues recording) into {@code recordDir} and counts. */
    public static Accuracy run(dev.advinterp.nn.models.ImageModel model, Dataset data, AttackSpec attack, int batch, Path recordDir,
                               PrintStream out) throws IOException {
        try (Recording rec = Recording.open(recordDir, null)) {
            ActivationRecorder.record(model, data, attack, null, batch, rec, out);
        }
        return Accuracy.of(attack.build().name(), Recording.load(recordDir).images());
    }

    /** {@code accuracy.csv} and {@code accuracy.json} in {@code folder}. */
    public static void write(Path folder, String modelName, String dataName, Accuracy a) throws IOException {
        List<String> header = new java.util.ArrayList<>(List.of("model", "data"));
        header.addAll(Accuracy.CSV_HEADER);
        List<Object> row = new java.util.ArrayList<>(List.of(modelName, dataName));
        row.addAll(a.csv());
        Csv.write(folder.resolve(CSV), header, List.of(row));
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("model", modelName);
        json.put("data", dataName);
        json.putAll(a.json());
        AtomicFile.writeString(folder.resolve(JSON), Json.pretty(json));
    }

    /** The per-image predictions of a recording as a CSV: the label, then top-5 classes and probabilities, clean and adversarial. */
    public static void writePredictions(Path file, Path recordDir) throws IOException {
        List<Recording.Image> images = Recording.load(recordDir).images();
        Csv.write(file, Recording.HEADER, images.stream().map(im -> List.<Object>of(im.index(), im.label(), im.clean().classesField(),
                im.clean().probabilitiesField(), im.adversarial().classesField(), im.adversarial().probabilitiesField())).toList());
    }
}
