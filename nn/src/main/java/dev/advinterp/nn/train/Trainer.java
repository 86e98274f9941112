package dev.advinterp.nn.train;

import dev.advinterp.engine.Gradients;
import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tape;
import dev.advinterp.engine.io.AtomicFile;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.optim.LrSchedule;
import dev.advinterp.nn.optim.Sgd;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * Trains a model with SGD over a {@link BatchSource}: per epoch a progress bar, the mean loss and
 * accuracy, optional validation, an atomic checkpoint and a CSV of the metrics. Seeded: dropout
 * masks follow from (seed, global step) and the batches from the source's seed and the epoch, so
 * a run resumed from the checkpoint of epoch k gives the same bits as one that never stopped.
 */
public final class Trainer {

    /**
     * @param checkpoint where to write the checkpoint after every epoch (null: none)
     * @param metricsCsv where to write the metrics after every epoch (null: none)
     * @param resume     continue from {@code checkpoint} if it exists
     */
    public record Options(int epochs, Sgd.Options sgd, LrSchedule schedule, long seed, Path checkpoint, Path metricsCsv,
                          boolean resume, PrintStream out) {
        public Options {
            if (epochs <= 0) throw new IllegalArgumentException("training needs at least one epoch, got " + epochs);
            if (resume && checkpoint == null) throw new IllegalArgumentException("--resume needs a checkpoint path");
        }
    }

    private final Options options;
    private final Objective objective;

    public Trainer(Options options, Objective objective) {
        this.options = options;
        this.objective = objective;
    }

    public Trainer(Options options) {
        this(options, Objective.crossEntropy());
    }

    /** Trains from scratch or from the checkpoint, and returns the metrics of every epoch. */
    public List<EpochStats> fit(ImageModel model, BatchSource train, BatchSource validation) throws IOException {
        PrintStream out = options.out();
        try (Sgd sgd = new Sgd(model.namedParameters(), options.sgd())) {
            int startEpoch = 0;
            long step = 0;
            List<EpochStats> history = new ArrayList<>();
            if (options.resume() && options.checkpoint() != null && Files.exists(options.checkpoint())) {
                TrainingCheckpoint cp = TrainingCheckpoint.load(options.checkpoint(), model, sgd);
                if (cp.seed() != options.seed()) {
                    throw new IllegalArgumentException(options.checkpoint() + " was trained with seed " + cp.seed()
                            + ", not " + options.seed() + "; resume with the same seed or start a new run");
                }
                startEpoch = cp.nextEpoch();
                step = cp.step();
                history.addAll(cp.history());
                if (out != null) out.printf("resuming from %s at epoch %d%n", options.checkpoint(), startEpoch + 1);
            }
            for (int epoch = startEpoch; epoch < options.epochs(); epoch++) {
                float lr = options.schedule().lr(options.sgd().lr(), epoch);
                long t0 = System.nanoTime();
                double lossSum = 0;
                long seen = 0, correct = 0;
                model.train(true);
                try (ProgressBar bar = new ProgressBar(out, String.format(Locale.ROOT, "epoch %d/%d", epoch + 1, options.epochs()),
                        train.images())) {
                    for (Iterator<Batch> it = train.epoch(epoch); it.hasNext(); step++) {
                        Batch b = it.next();
                        model.seed(mix(options.seed(), step));
                        try (Scope s = Scope.open(); Tape tape = Tape.start()) {
                            Objective.Output o = objective.compute(model, b.tensor(), b.labels());
                            float loss = o.loss().item();
                            lossSum += (double) loss * b.n();
                            int[] pred = Ops.argmax(o.logits());
                            for (int i = 0; i < b.n(); i++) if (pred[i] == b.labels()[i]) correct++;
                            seen += b.n();
                            Gradients g = tape.backward(o.loss());
                            sgd.step(g, lr);
                        }
                        bar.step(b.n(), String.format(Locale.ROOT, "loss %.4f acc %.1f%%", lossSum / seen, 100.0 * correct / seen));
                    }
                }
                if (seen == 0) throw new IllegalArgumentException("the training source gave no batches in epoch " + (epoch + 1));
                double valLoss = Double.NaN, valAcc = Double.NaN;
                if (validation != null) {
                    Evaluation ev = Evaluation.run(model, validation);
                    valLoss = ev.loss();
                    valAcc = ev.top1();
                }
                EpochStats st = new EpochStats(epoch + 1, lr, lossSum / seen, (double) correct / seen, valLoss, valAcc,
                        (System.nanoTime() - t0) / 1e9);
                history.add(st);
                if (out != null) {
                    out.printf(Locale.ROOT, "epoch %d/%d  lr %.4g  loss %.4f  accuracy %.2f%%%s  (%.1f s)%n", epoch + 1, options.epochs(), lr,
                            st.trainLoss(), 100 * st.trainAccuracy(),
                            validation == null ? "" : String.format(Locale.ROOT, "  val loss %.4f  val accuracy %.2f%%", valLoss, 100 * valAcc),
                            st.seconds());
                }
                if (options.checkpoint() != null) {
                    TrainingCheckpoint.save(options.checkpoint(), model, sgd,
                            new TrainingCheckpoint(epoch + 1, step, options.seed(), model.config().toString(), history));
                }
                if (options.metricsCsv() != null) writeCsv(options.metricsCsv(), history);
            }
            return history;
        }
    }

    /** SplitMix64 of seed and step: well-spread per-step seeds for the random layers. */
    static long mix(long seed, long step) {
        long z = seed + (step + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static void writeCsv(Path file, List<EpochStats> history) {
        StringBuilder sb = new StringBuilder(EpochStats.CSV_HEADER).append('\n');
        for (EpochStats e : history) sb.append(e.csv()).append('\n');
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            AtomicFile.writeString(file, sb);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the metrics to " + file + ": " + e.getMessage(), e);
        }
    }
}
