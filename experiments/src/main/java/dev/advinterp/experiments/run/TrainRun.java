package dev.advinterp.experiments.run;

import dev.advinterp.engine.io.AtomicFile;
import dev.advinterp.experiments.data.Augmentation;
import dev.advinterp.experiments.data.BatchLoader;
import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.experiments.training.ConsistentLoss;
import dev.advinterp.nn.io.Json;
import dev.advinterp.nn.models.Architecture;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.models.Layout;
import dev.advinterp.nn.models.ModelConfig;
import dev.advinterp.nn.models.ModelFiles;
import dev.advinterp.nn.models.Models;
import dev.advinterp.nn.optim.LrSchedule;
import dev.advinterp.nn.optim.Sgd;
import dev.advinterp.nn.train.EpochStats;
import dev.advinterp.nn.train.Objective;
import dev.advinterp.nn.train.Trainer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Trains one model on a dataset, normally or with the consistent loss, into a run folder:
 * {@code checkpoint.safetensors} after every epoch (a resumed run continues from it, bit for bit),
 * {@code model.safetensors} (the final weights with their configuration), {@code metrics.csv} and
 * {@code metrics.json} (per epoch: learning rate, loss and accuracy, validation loss and accuracy,
 * seconds).
 */
public final class TrainRun {
    public static final String CHECKPOINT = "checkpoint.safetensors", MODEL = "model.safetensors", METRICS_CSV = "metrics.csv",
            METRICS_JSON = "metrics.json";
    /** The files a training run writes into its folder (what --force replaces). */
    public static final List<String> OUTPUTS = List.of(CHECKPOINT, MODEL, METRICS_CSV, METRICS_JSON);

    /**
     * Everything that decides a training run's result.
     *
     * @param layout      null: the default for the input size ({@link Layout#forSize})
     * @param width       the width multiplier of every layer (1: the published networks)
     * @param schedule    constant, step:SIZE:GAMMA or cosine[:ETA_MIN] (see {@link LrSchedule})
     * @param augment     random crop (padding 4) and horizontal flip
     * @param adversarial the consistent loss's options, or null for plain cross-entropy
     */
    public record Settings(Architecture arch, Layout layout, float width, int epochs, int batch, float lr, float momentum, float weightDecay,
                           boolean nesterov, String schedule, long seed, boolean augment, ConsistentLoss.Options adversarial) {
        public Settings {
            if (epochs <= 0) throw new IllegalArgumentException("--epochs must be at least 1, got " + epochs);
            if (batch <= 0) throw new IllegalArgumentException("--batch must be positive, got " + batch);
            if (!(lr > 0) || !Float.isFinite(lr)) throw new IllegalArgumentException("--lr must be a finite number > 0, got " + lr);
            if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("--momentum must be in [0, 1), got " + momentum);
            if (!(weightDecay >= 0) || !Float.isFinite(weightDecay)) {
                throw new IllegalArgumentException("--weight-decay must be a finite number >= 0, got " + weightDecay);
            }
            LrSchedule.parse(schedule, epochs); // a bad schedule is an error before anything is read or written
        }

        /** The model this trains, for images of the dataset's shape and classes. */
        public ModelConfig modelConfig(Dataset data) {
            if (data.height() != data.width()) {
                throw new IllegalArgumentException(data.name() + " has " + data.height() + "×" + data.width() + " images; the models take square ones");
            }
            ModelConfig c = data.height() >= 224 ? ModelConfig.imagenet(arch, seed).withClasses(data.classes().size())
                    : ModelConfig.small(arch, data.channels(), data.height(), data.classes().size(), seed);
            if (c.inChannels() != data.channels()) c = ModelConfig.small(arch, data.channels(), data.height(), data.classes().size(), seed);
            return c.withLayout(layout == null ? Layout.forSize(data.height()) : layout).withWidth(width);
        }

        /** What the run records in settings.json (the epoch count is left out: a run may be resumed to train longer). */
        public Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("arch", arch.id());
            m.put("layout", layout == null ? "default" : layout.id());
            m.put("width", width);
            m.put("batch", batch);
            m.put("lr", lr);
            m.put("momentum", momentum);
            m.put("weight_decay", weightDecay);
            m.put("nesterov", nesterov);
            m.put("schedule", schedule);
            m.put("seed", seed);
            m.put("augment", augment);
            if (adversarial == null) {
                m.put("objective", "cross-entropy");
            } else {
                m.put("objective", "consistent");
                m.put("alpha", adversarial.alpha());
                m.put("beta", adversarial.beta());
                m.put("eps", adversarial.epsPixels());
                m.put("layer", adversarial.layer() == null ? "last conv" : adversarial.layer());
                m.put("unrelaxed", adversarial.unrelaxed());
                if (adversarial.unrelaxed()) m.put("inner_steps", adversarial.innerSteps());
            }
            return m;
        }

        public String describe() {
            if (adversarial == null) return "cross-entropy";
            ConsistentLoss.Options o = adversarial;
            return String.format(Locale.ROOT, "consistent loss (α %.2f, β %.2f, ε %.1f, φ %s%s)", o.alpha(), o.beta(), o.epsPixels(),
                    o.layer() == null ? "last conv" : o.layer(), o.unrelaxed() ? ", unrelaxed with " + o.innerSteps() + " inner steps" : "");
        }
    }

    private TrainRun() {
    }

    /** Trains (or continues, when the folder was resumed) and returns the metrics of every epoch. */
    public static List<EpochStats> run(Settings s, Dataset train, Dataset eval, RunFolder folder, PrintStream out) throws IOException {
        return run(s, train, eval, null, folder, out);
    }

    /**
     * {@link #run(Settings, Dataset, Dataset, RunFolder, PrintStream)} starting from the weights in
     * {@code init} (fine-tuning; null: a fresh initialisation), which must be the model the settings
     * build for this data, seed aside. A resumed run continues from its checkpoint instead.
     */
    public static List<EpochStats> run(Settings s, Dataset train, Dataset eval, Path init, RunFolder folder, PrintStream out) throws IOException {
        ModelConfig config = s.modelConfig(train);
        Objective objective = s.adversarial() == null ? Objective.crossEntropy() : new ConsistentLoss(s.adversarial());
        Augmentation aug = s.augment() ? Augmentation.randomCrop(4).then(Augmentation.horizontalFlip()) : Augmentation.none();
        var options = new Trainer.Options(s.epochs(), new Sgd.Options(s.lr(), s.momentum(), s.weightDecay(), s.nesterov()),
                LrSchedule.parse(s.schedule(), s.epochs()), s.seed(), folder.file(CHECKPOINT), folder.file(METRICS_CSV), folder.resumed(), out);
        if (out != null) {
            out.printf("train: %s on %s (%d images, %d classes), %s, %d epochs, batch %d, lr %s (%s), seed %d%n", config, train.name(),
                    train.size(), train.classes().size(), s.describe(), s.epochs(), s.batch(), s.lr(), s.schedule(), s.seed());
        }
        try (ImageModel model = init == null ? Models.create(config) : initial(init, config);
             BatchLoader trainLoader = BatchLoader.training(train, s.batch(), s.seed(), aug);
             BatchLoader evalLoader = eval == null ? null : BatchLoader.evaluation(eval, s.batch())) {
            List<EpochStats> history = new Trainer(options, objective).fit(model, trainLoader, evalLoader);
            ModelFiles.save(folder.file(MODEL), model);
            List<Object> rows = new ArrayList<>();
            for (EpochStats e : history) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("epoch", e.epoch());
                m.put("lr", e.lr());
                m.put("train_loss", e.trainLoss());
                m.put("train_accuracy", e.trainAccuracy());
                m.put("val_loss", e.valLoss());
                m.put("val_accuracy", e.valAccuracy());
                m.put("seconds", e.seconds());
                rows.add(m);
            }
            AtomicFile.writeString(folder.file(METRICS_JSON), Json.pretty(rows));
            return history;
        }
    }

    private static ImageModel initial(Path init, ModelConfig wanted) throws IOException {
        ImageModel m = ModelFiles.load(init);
        if (!m.config().withSeed(wanted.seed()).toMetadata().equals(wanted.toMetadata())) {
            m.close();
            throw new IllegalArgumentException("--init " + init + " holds " + m.config() + ", not the " + wanted + " these settings train");
        }
        return m;
    }
}
