package dev.advinterp.experiments.cli;

import dev.advinterp.experiments.attacks.AttackSpec;
import dev.advinterp.experiments.attacks.Fgsm;
import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.experiments.run.AttackRun;
import dev.advinterp.experiments.run.RunFolder;
import dev.advinterp.nn.models.ImageModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code advinterp attack}: parses the options and runs {@link AttackRun} on the evaluation split.
 */
@Command(name = "attack", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Attacks a model (weights of 'advinterp train' or 'convert', or a torchvision state dict with --arch) on the",
                "evaluation split of a dataset. Writes into --out: adv_<index>.png per image and results.csv",
                "(index,label,target,clean_prediction,adversarial_prediction,success,l2,linf,confidence; distances in pixel units)",
                "and summary.json. The success rate is over the images the model classifies correctly when clean."})
final class AttackCommand implements Callable<Integer> {

    @Mixin
    ModelOption model;

    @Mixin
    EvaluationData data;

    @Option(names = "--out", required = true, description = "Output folder.")
    Path out;

    @Option(names = "--attack", description = "fgsm, bim, pgd, pgd-l2, illc or targeted-l2 (default: ${DEFAULT-VALUE}).")
    String attack = "fgsm";

    @Option(names = "--eps", description = "ε in pixel units of 1/255 (L∞; L2 norm for pgd-l2) (default: ${DEFAULT-VALUE}, the paper's FGSM).")
    float eps = Fgsm.PAPER_EPS;

    @Option(names = "--step", description = "Step in pixel units for pgd and pgd-l2 (default: ε/4).")
    Float step;

    @Option(names = "--steps", description = "Iterations of pgd and pgd-l2 (default: 10), Adam steps per λ round of targeted-l2 (default: 100).")
    Integer steps;

    @Option(names = "--target", description = "Targets of targeted-l2: 'random' (a seeded class other than the label) or a class index (default: ${DEFAULT-VALUE}).")
    String target = "random";

    @Option(names = "--seed", description = "Seed of random starts and random targets (default: ${DEFAULT-VALUE}).")
    long seed = 1;

    @Option(names = "--no-images", description = "Write the CSV only.")
    boolean noImages;

    @Mixin
    ResumeOptions run;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws IOException {
        device.apply();
        AttackSpec spec = new AttackSpec(attack, eps, step, steps != null ? steps : AttackSpec.defaultSteps(attack), target, seed);
        try (ImageModel m = model.load()) {
            Dataset ds = data.open(m, model.file);
            Map<String, Object> settings = data.settings(m);
            settings.putAll(spec.settings());
            try (RunFolder folder = run.open(out, "attack", settings, AttackRun.OUTPUTS)) {
                AttackRun.Summary s = AttackRun.run(m, ds, spec, new AttackRun.Options(data.batch, !noImages), folder, System.out, null);
                System.out.printf("%s over %d images; wrote %s%n", s.describe(), s.images(), folder.file(AttackRun.RESULTS));
            }
        }
        return 0;
    }
}
