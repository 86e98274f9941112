package dev.advinterp.experiments.cli;

import dev.advinterp.experiments.data.DataSources;
import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.experiments.run.RunFolder;
import dev.advinterp.experiments.run.TrainRun;
import dev.advinterp.experiments.training.ConsistentLoss;
import dev.advinterp.nn.models.Architecture;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.models.Layout;
import dev.advinterp.nn.models.ModelFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code advinterp train}: parses the options and runs {@link TrainRun}.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains alexnet, vgg16, vgg16_bn or resnet18 on a dataset, normally or with the consistent loss",
                "(--adversarial). Writes into --out: checkpoint.safetensors (after every epoch; --resume continues from it, with",
                "--epochs larger to train longer), model.safetensors (the final weights), metrics.csv and metrics.json."})
final class TrainCommand implements Callable<Integer> {

    @Option(names = "--arch", description = "alexnet, vgg16, vgg16_bn or resnet18 (default: ${DEFAULT-VALUE}).")
    String arch = "resnet18";

    @Option(names = "--data", required = true, description = "The dataset: " + DataSources.HELP + ".")
    String data;

    @Option(names = "--out", required = true, description = "Output folder.")
    Path out;

    @Option(names = "--epochs", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs = 10;

    @Option(names = "--batch", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch = 64;

    @Option(names = "--lr", description = "Learning rate (default: ${DEFAULT-VALUE}).")
    float lr = 0.05f;

    @Option(names = "--momentum", description = "SGD momentum (default: ${DEFAULT-VALUE}).")
    float momentum = 0.9f;

    @Option(names = "--weight-decay", description = "Weight decay (default: ${DEFAULT-VALUE}).")
    float weightDecay = 5e-4f;

    @Option(names = "--nesterov", description = "Nesterov momentum.")
    boolean nesterov;

    @Option(names = "--schedule", description = "constant, step:SIZE:GAMMA or cosine[:ETA_MIN], optionally after warmup:EPOCHS: (default: ${DEFAULT-VALUE}).")
    String schedule = "cosine";

    @Option(names = "--seed", description = "Seed of initialisation, shuffling, augmentation and dropout (default: ${DEFAULT-VALUE}).")
    long seed = 1;

    @Option(names = "--no-augment", description = "No random crop (padding 4) and horizontal flip.")
    boolean noAugment;

    @Option(names = "--limit", description = "Use only the first N training and N/5 evaluation images (0: all).")
    int limit;

    @Mixin
    ResumeOptions run;

    @Option(names = "--adversarial", description = "Train with the consistent loss (Eq. 6): α·CE(x) + (1−α)·CE(x*) + β·d(φ(x), φ(x*)), x* = FGSM(x).")
    boolean adversarial;

    @Option(names = "--alpha", description = "α of the consistent loss (default: ${DEFAULT-VALUE}).")
    float alpha = ConsistentLoss.Options.defaults().alpha();

    @Option(names = "--beta", description = "β of the consistent loss (default: ${DEFAULT-VALUE}).")
    float beta = ConsistentLoss.Options.defaults().beta();

    @Option(names = "--eps", description = "FGSM ε of x*, in pixel units of 1/255 (default: ${DEFAULT-VALUE}).")
    float eps = ConsistentLoss.Options.defaults().epsPixels();

    @Option(names = "--layer", description = "The layer φ (default: the model's last convolutional layer).")
    String layer;

    @Option(names = "--unrelaxed", description = "Eq. 5: the feature term uses a second adversary x′ that maximises the feature distance.")
    boolean unrelaxed;

    @Option(names = "--inner-steps", description = "PGD steps that find x′ with --unrelaxed (default: ${DEFAULT-VALUE}).")
    int innerSteps = ConsistentLoss.Options.defaults().innerSteps();

    @Option(names = "--layout", description = "torchvision (torchvision's layers at any size) or small (the small-input adaptations); default: torchvision at 224 px and above, small below.")
    String layout;

    @Option(names = "--width", description = "Width multiplier of every layer's channels and hidden units (default: ${DEFAULT-VALUE}: the published networks).")
    float width = 1f;

    @Option(names = "--init", description = "Start from the weights of this model file (fine-tuning, e.g. with --adversarial from a "
            + "normally trained model) instead of a fresh initialisation; it must be the model the other options describe.")
    Path init;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws IOException {
        device.apply();
        var settings = new TrainRun.Settings(Architecture.parse(arch), layout == null ? null : Layout.parse(layout), width, epochs, batch, lr,
                momentum, weightDecay, nesterov, schedule, seed, !noAugment,
                adversarial ? new ConsistentLoss.Options(alpha, beta, eps, layer, unrelaxed, innerSteps) : null);
        Dataset train = DataSources.limit(DataSources.open(data, true), limit);
        Dataset eval = DataSources.limit(DataSources.open(data, false), limit <= 0 ? 0 : Math.max(1, limit / 5));
        settings.modelConfig(train); // a model that cannot be built for this data is an error before --out is touched
        Map<String, Object> json = new LinkedHashMap<>(settings.json());
        json.put("data", data);
        json.put("limit", limit);
        if (init != null) {
            try (ImageModel m = ModelFiles.load(init)) {
                json.put("init", ModelFiles.fingerprint(m));
            }
        }
        try (RunFolder folder = run.open(out, "train", json, TrainRun.OUTPUTS)) {
            TrainRun.run(settings, train, eval, init, folder, System.out);
            System.out.printf("wrote %s, %s and %s%n", folder.file(TrainRun.MODEL), folder.file(TrainRun.METRICS_CSV), folder.file(TrainRun.METRICS_JSON));
            if (train.skipped() > 0) System.out.printf("skipped %d unreadable images%n", train.skipped());
        }
        return 0;
    }
}
