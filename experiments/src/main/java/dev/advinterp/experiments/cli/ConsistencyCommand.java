package dev.advinterp.experiments.cli;

import dev.advinterp.engine.EngineConfig;
import dev.advinterp.experiments.attacks.AttackSpec;
import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.experiments.metrics.consistency.ActivationRule;
import dev.advinterp.experiments.run.ConsistencyRun;
import dev.advinterp.experiments.run.RunFolder;
import dev.advinterp.nn.models.ImageModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code advinterp consistency}: parses the options and runs {@link ConsistencyRun}. */
@Command(name = "consistency", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The consistency of a layer's units on real images and on their adversarial versions (the paper's Eqs. 1-3,",
                "Table 1 and Figure 5), with Table 3's accuracies from the same passes. The dataset's classes must be WordNet",
                "noun ids. Writes into --out: units.csv (per unit: threshold, activating images, consis, consis_adv, class",
                "counts), table1.csv, consistency.json, figure5.png, and the recorded pass (record/; --resume continues it)."})
final class ConsistencyCommand implements Callable<Integer> {

    @Mixin
    ModelOption model;

    @Mixin
    EvaluationData data;

    @Option(names = "--out", required = true, description = "Output folder.")
    Path out;

    @Option(names = "--layer", description = "The layer φ (default: the model's last convolutional layer).")
    String layer;

    @Option(names = "--sigma", description = "σ of A_ij = exp(-d²/(2σ²)), d the WordNet distance (default: ${DEFAULT-VALUE}).")
    double sigma = 1.0;

    @Option(names = "--activation", description = "When an image activates a unit: quantile:Q (the top fraction Q of the real images) "
            + "or topk:K (default: ${DEFAULT-VALUE}).")
    String activation = ActivationRule.DEFAULT.id();

    @Option(names = "--min-images", description = "Fewest activating images for a defined consistency (default: ${DEFAULT-VALUE}).")
    int minImages = 10;

    @Option(names = "--attack", description = "The attack that makes the adversarial images: fgsm, bim, pgd, illc ... (default: ${DEFAULT-VALUE}).")
    String attack = "fgsm";

    @Option(names = "--eps", description = "ε in pixel units of 1/255 (default: ${DEFAULT-VALUE}, the paper's).")
    float eps = 1f;

    @Mixin
    ResumeOptions run;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws IOException {
        device.apply();
        var settings = new ConsistencyRun.Settings(layer, new AttackSpec(attack, eps, null, 10, "random", 1), ActivationRule.parse(activation),
                sigma, minImages, data.batch);
        try (ImageModel m = model.load()) {
            Dataset ds = data.open(m, model.file);
            Map<String, Object> json = data.settings(m);
            json.putAll(settings.json(m));
            try (RunFolder folder = run.open(out, "consistency", json, ConsistencyRun.OUTPUTS)) {
                ConsistencyRun.Result r = ConsistencyRun.run(m, ds, settings, folder, EngineConfig.current().cache(), model.name(), System.out);
                System.out.println(r.summary().describe());
                System.out.println(r.accuracy().describe());
                System.out.println("wrote " + folder.file(ConsistencyRun.UNITS) + ", " + folder.file(ConsistencyRun.TABLE) + ", "
                        + folder.file(ConsistencyRun.FIGURE));
            }
        }
        return 0;
    }
}
