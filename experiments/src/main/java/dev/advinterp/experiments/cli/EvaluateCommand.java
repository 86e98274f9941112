package dev.advinterp.experiments.cli;

import dev.advinterp.experiments.attacks.AttackSpec;
import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.experiments.metrics.accuracy.Accuracy;
import dev.advinterp.experiments.run.EvaluateRun;
import dev.advinterp.experiments.run.RunFolder;
import dev.advinterp.nn.models.ImageModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code advinterp evaluate}: parses the options and runs {@link EvaluateRun}. */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Top-1 and top-5 accuracy of a model on the clean images of a dataset's evaluation split and on their FGSM",
                "versions (the paper's Table 3; each adversarial image keeps its clean image's label). With --out, writes",
                "accuracy.csv, accuracy.json and the recorded pass (record/, continued by --resume); --predictions writes",
                "each image's top-5 classes and probabilities, clean and adversarial."})
final class EvaluateCommand implements Callable<Integer> {

    @Mixin
    ModelOption model;

    @Mixin
    EvaluationData data;

    @Option(names = "--eps", description = "FGSM ε in pixel units of 1/255 (default: ${DEFAULT-VALUE}, the paper's).")
    float eps = 1f;

    @Option(names = "--out", description = "Folder for accuracy.csv, accuracy.json and the recorded pass (default: none, print only).")
    Path out;

    @Option(names = "--predictions", paramLabel = "FILE", description = "Write the per-image top-5 classes and probabilities (CSV).")
    Path predictions;

    @Mixin
    ResumeOptions run;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws IOException {
        device.apply();
        AttackSpec attack = AttackSpec.fgsm(eps);
        try (ImageModel m = model.load()) {
            Dataset ds = data.open(m, model.file);
            Accuracy a;
            if (out != null) {
                Map<String, Object> settings = data.settings(m);
                settings.putAll(attack.settings());
                try (RunFolder folder = run.open(out, "evaluate", settings, EvaluateRun.OUTPUTS)) {
                    a = EvaluateRun.run(m, ds, attack, data.batch, folder.file(EvaluateRun.RECORD), System.out);
                    EvaluateRun.write(folder.dir(), model.name(), ds.name(), a);
                    if (predictions != null) EvaluateRun.writePredictions(predictions, folder.file(EvaluateRun.RECORD));
                }
            } else {
                Path tmp = Files.createTempDirectory("advinterp-evaluate");
                try {
                    a = EvaluateRun.run(m, ds, attack, data.batch, tmp, System.out);
                    if (predictions != null) EvaluateRun.writePredictions(predictions, tmp);
                } finally {
                    try (var files = Files.walk(tmp)) {
                        for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
                    }
                }
            }
            System.out.println(model.name() + " on " + ds.name() + ": " + a.describe());
        }
        return 0;
    }
}
