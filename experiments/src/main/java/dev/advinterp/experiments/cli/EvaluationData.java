package dev.advinterp.experiments.cli;

import dev.advinterp.experiments.data.DataSources;
import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.models.ModelFiles;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;

/** {@code --data}, {@code --limit} and {@code --batch} of the commands that measure a model on a dataset's evaluation split. */
final class EvaluationData {

    @Option(names = "--data", required = true, description = "The dataset (its evaluation split): " + DataSources.HELP + ".")
    String spec;

    @Option(names = "--limit", description = "Use only the first N images (0: all).")
    int limit;

    @Option(names = "--batch", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch = 32;

    /** The evaluation split at the model's input size, checked against the model. */
    Dataset open(ImageModel model, Object modelSource) {
        Dataset ds = DataSources.limit(DataSources.open(spec, false, model.config().inputSize()), limit);
        DataSources.requireFits(ds, model.config(), modelSource);
        return ds;
    }

    /** The settings a run records for its inputs: the model's fingerprint, the data and the limit. */
    Map<String, Object> settings(ImageModel model) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", ModelFiles.fingerprint(model));
        m.put("data", spec);
        m.put("limit", limit);
        return m;
    }
}
