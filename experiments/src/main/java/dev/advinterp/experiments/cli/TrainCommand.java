package dev.advinterp.experiments.cli;

import dev.advinterp.experiments.data.Augmentation;
import dev.advinterp.experiments.data.BatchLoader;
import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.experiments.training.ConsistentLoss;
import dev.advinterp.nn.models.Architecture;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.models.ModelConfig;
import dev.advinterp.nn.models.Models;
import dev.advinterp.nn.optim.LrSchedule;
import dev.advinterp.nn.optim.Sgd;
import dev.advinterp.nn.train.EpochStats;
import dev.advinterp.nn.train.Objective;
import dev.advinterp.nn.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code advinterp train}: normal or adversarial training (the consistent loss) of one of the
 * architectures on one of the datasets, with a checkpoint after every epoch and {@code --resume}.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains alexnet, vgg16, vgg16_bn or resnet18 on a dataset, normally or with the consistent loss",
                "(--adversarial). Writes into --out: checkpoint.safetensors (after every epoch; --resume continues from it),",
                "model.safetensors (the final weights), metrics.csv and metrics.json."})
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

    @Option(names = "--schedule", description = "constant, step:SIZE:GAMMA or cosine[:ETA_MIN] (default: ${DEFAULT-VALUE}).")
    String schedule = "cosine";

    @Option(names = "--seed", description = "Seed of initialisation, shuffling, augmentation and dropout (default: ${DEFAULT-VALUE}).")
    long seed = 1;

    @Option(names = "--no-augment", description = "No random crop (padding 4) and horizontal flip.")
    boolean noAugment;

    @Option(names = "--limit", description = "Use only the first N training and N/5 evaluation images (0: all).")
    int limit;

    @Option(names = "--resume", description = "Continue from --out/checkpoint.safetensors if it exists.")
    boolean resume;

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

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws IOException {
        device.apply();
        Architecture a = Architecture.parse(arch);
        Dataset train = DataSources.limit(DataSources.open(data, true), limit);
        Dataset eval = DataSources.limit(DataSources.open(data, false), limit <= 0 ? 0 : Math.max(1, limit / 5));
        if (train.height() != train.width()) {
            throw new IllegalArgumentException(train.name() + " has " + train.height() + "×" + train.width() + " images; the models take square ones");
        }
        ModelConfig config = train.height() >= 224 ? ModelConfig.imagenet(a, seed)
                : ModelConfig.small(a, train.channels(), train.height(), train.classes().size(), seed);
        if (train.height() >= 224 && train.classes().size() != 1000) {
            config = new ModelConfig(a, train.channels(), train.height(), train.classes().size(), config.mean(), config.std(), seed);
        }
        Files.createDirectories(out);
        Objective objective = adversarial
                ? new ConsistentLoss(new ConsistentLoss.Options(alpha, beta, eps, layer, unrelaxed, innerSteps))
                : Objective.crossEntropy();
        Augmentation aug = noAugment ? Augmentation.none() : Augmentation.randomCrop(4).then(Augmentation.horizontalFlip());
        var options = new Trainer.Options(epochs, new Sgd.Options(lr, momentum, weightDecay, nesterov), LrSchedule.parse(schedule, epochs),
                seed, out.resolve("checkpoint.safetensors"), out.resolve("metrics.csv"), resume, System.out);
        System.out.printf("train: %s on %s (%d images, %d classes), %s, %d epochs, batch %d, lr %s (%s), seed %d%n", config, train.name(),
                train.size(), train.classes().size(), adversarial ? describe() : "cross-entropy", epochs, batch, lr, schedule, seed);
        try (ImageModel model = Models.create(config);
             BatchLoader trainLoader = BatchLoader.training(train, batch, seed, aug);
             BatchLoader evalLoader = BatchLoader.evaluation(eval, batch)) {
            List<EpochStats> history = new Trainer(options, objective).fit(model, trainLoader, evalLoader);
            ModelFiles.save(out.resolve("model.safetensors"), model);
            writeJson(out.resolve("metrics.json"), history);
            System.out.printf("wrote %s, %s and %s%n", out.resolve("model.safetensors"), out.resolve("metrics.csv"), out.resolve("metrics.json"));
            if (train.skipped() > 0) System.out.printf("skipped %d unreadable images%n", train.skipped());
        }
        return 0;
    }

    private String describe() {
        return String.format(Locale.ROOT, "consistent loss (α %.2f, β %.2f, ε %.1f, φ %s%s)", alpha, beta, eps,
                layer == null ? "last conv" : layer, unrelaxed ? ", unrelaxed with " + innerSteps + " inner steps" : "");
    }

    private static void writeJson(Path file, List<EpochStats> history) throws IOException {
        StringBuilder sb = new StringBuilder("[\n");
        for (int i = 0; i < history.size(); i++) {
            EpochStats e = history.get(i);
            sb.append(String.format(Locale.ROOT,
                    "  {\"epoch\": %d, \"lr\": %s, \"train_loss\": %s, \"train_accuracy\": %s, \"val_loss\": %s, \"val_accuracy\": %s, \"seconds\": %s}%s%n",
                    e.epoch(), num(e.lr()), num(e.trainLoss()), num(e.trainAccuracy()), num(e.valLoss()), num(e.valAccuracy()), num(e.seconds()),
                    i + 1 < history.size() ? "," : ""));
        }
        sb.append("]\n");
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), "metrics", ".tmp");
        Files.writeString(tmp, sb, StandardCharsets.UTF_8);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private static String num(double v) {
        return Double.isFinite(v) ? Double.toString(v) : "null";
    }
}
