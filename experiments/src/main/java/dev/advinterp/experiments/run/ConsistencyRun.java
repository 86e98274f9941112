package dev.advinterp.experiments.run;

import dev.advinterp.engine.io.AtomicFile;
import dev.advinterp.experiments.activations.ActivationRecorder;
import dev.advinterp.experiments.activations.Recording;
import dev.advinterp.experiments.attacks.AttackSpec;
import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.experiments.figures.Histograms;
import dev.advinterp.experiments.io.Csv;
import dev.advinterp.experiments.io.ImageCodec;
import dev.advinterp.experiments.metrics.accuracy.Accuracy;
import dev.advinterp.experiments.metrics.consistency.ActivationRule;
import dev.advinterp.experiments.metrics.consistency.ConsistencyMetric;
import dev.advinterp.experiments.metrics.consistency.ConsistencySummary;
import dev.advinterp.experiments.metrics.consistency.UnitConsistency;
import dev.advinterp.experiments.wordnet.ClassDistances;
import dev.advinterp.experiments.wordnet.WordNetGraph;
import dev.advinterp.nn.io.Json;
import dev.advinterp.nn.models.ImageModel;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The consistency of a layer's units on real and adversarial images (the paper's Eqs. 1–3, Table 1
 * and Figure 5), with Table 3's accuracies from the same passes. Into its run folder:
 * <ul>
 *   <li>{@code record/}: the pass over the images ({@link Recording}), continued if interrupted;</li>
 *   <li>{@code units.csv}: per unit, its threshold, how many real and adversarial images activate
 *       it, consis and consis_adv (empty where undefined) and the per-class counts of the
 *       activating images ({@code class:count;…}), from which anyone can recompute pᵀAp;</li>
 *   <li>{@code table1.csv} and {@code consistency.json}: the means and the undefined counts, with
 *       the accuracies and the settings;</li>
 *   <li>{@code figure5.png}: the histograms of consis and consis_adv.</li>
 * </ul>
 */
public final class ConsistencyRun {
    public static final String RECORD = "record", UNITS = "units.csv", TABLE = "table1.csv", JSON = "consistency.json", FIGURE = "figure5.png";
    public static final List<String> OUTPUTS = List.of(RECORD, UNITS, TABLE, JSON, FIGURE);

    /**
     * @param layer     the layer φ (null: the model's, its last convolutional layer)
     * @param attack    the attack that makes the adversarial images (the paper: FGSM, ε = 1)
     * @param rule      when an image activates a unit
     * @param sigma     σ of A_ij = exp(−d²/(2σ²))
     * @param minImages the fewest activating images for a defined consistency
     */
    public record Settings(String layer, AttackSpec attack, ActivationRule rule, double sigma, int minImages, int batch) {
        public Settings {
            if (!(sigma > 0) || !Double.isFinite(sigma)) throw new IllegalArgumentException("--sigma must be a finite number > 0, got " + sigma);
            if (minImages < 1) throw new IllegalArgumentException("--min-images must be at least 1, got " + minImages);
            if (batch <= 0) throw new IllegalArgumentException("--batch must be positive, got " + batch);
        }

        public static Settings defaults() {
            return new Settings(null, AttackSpec.fgsm(1f), ActivationRule.DEFAULT, 1.0, 10, 32);
        }

        public Map<String, Object> json(ImageModel model) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("layer", layerOf(model));
            m.putAll(attack.settings());
            m.put("activation", rule.id());
            m.put("sigma", sigma);
            m.put("min_images", minImages);
            return m;
        }

        public String layerOf(ImageModel model) {
            return layer == null ? model.phiLayer() : layer;
        }
    }

    /** What a finished run measured. */
    public record Result(ConsistencySummary summary, Accuracy accuracy, List<UnitConsistency> units) {
    }

    private ConsistencyRun() {
    }

    /**
     * Records the passes (or continues them) and computes the metric.
     *
     * @param cacheDir where the WordNet distances of the dataset's classes are cached
     */
    public static Result run(ImageModel model, Dataset data, Settings s, RunFolder folder, Path cacheDir, String modelName, PrintStream out)
            throws IOException {
        String layer = s.layerOf(model);
        if (!model.namedModules().containsKey(layer)) {
            throw new IllegalArgumentException("--layer " + layer + ": the model has no such module (its modules: " + model.namedModules().keySet() + ")");
        }
        List<String> wnids = data.classes();
        for (int c = 0; c < wnids.size(); c++) {
            if (!WordNetGraph.isWellFormed(wnids.get(c))) {
                throw new IllegalArgumentException(data.name() + ": class " + c + " is named '" + wnids.get(c)
                        + "', not a WordNet noun id; the consistency metric needs classes named by wnids (n and 8 digits)");
            }
        }
        // The distances first: a bad wnid fails in seconds, not after the passes over the images.
        ClassDistances distances = ClassDistances.cached(wnids, cacheDir, WordNetGraph::open);
        try (Recording rec = Recording.open(folder.file(RECORD), layer)) {
            if (rec.done() > 0 && rec.done() < data.size() && out != null) out.printf("continuing the recording after %d images%n", rec.done());
            ActivationRecorder.record(model, data, s.attack(), layer, s.batch(), rec, out);
        }
        Recording.Loaded loaded = Recording.load(folder.file(RECORD));
        ConsistencyMetric metric = new ConsistencyMetric(distances.similarity(s.sigma()), wnids.size(), s.rule(), s.minImages());
        List<UnitConsistency> units = metric.measure(loaded.labels(), loaded.real(), loaded.adversarial(), loaded.units());
        ConsistencySummary summary = ConsistencySummary.of(layer, units);
        Accuracy accuracy = Accuracy.of(s.attack().build().name(), loaded.images());
        write(folder, modelName, s, model, summary, accuracy, units);
        return new Result(summary, accuracy, units);
    }

    private static void write(RunFolder folder, String modelName, Settings s, ImageModel model, ConsistencySummary summary, Accuracy accuracy,
                              List<UnitConsistency> units) throws IOException {
        Csv.write(folder.file(UNITS), UnitConsistency.CSV_HEADER, units.stream().map(UnitConsistency::csv).toList());
        List<String> header = new java.util.ArrayList<>(List.of("model"));
        header.addAll(ConsistencySummary.CSV_HEADER);
        List<Object> row = new java.util.ArrayList<>(List.of(modelName));
        row.addAll(summary.csv());
        Csv.write(folder.file(TABLE), header, List.of(row));
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("model", modelName);
        json.put("settings", s.json(model));
        json.put("consistency", summary.json());
        json.put("accuracy", accuracy.json());
        AtomicFile.writeString(folder.file(JSON), Json.pretty(json));
        double[] consis = units.stream().mapToDouble(UnitConsistency::consis).toArray();
        double[] adv = units.stream().mapToDouble(UnitConsistency::consisAdv).toArray();
        ImageCodec.writePng(folder.file(FIGURE), Histograms.consistency(modelName + " (" + summary.layer() + ")", consis, adv));
    }
}
