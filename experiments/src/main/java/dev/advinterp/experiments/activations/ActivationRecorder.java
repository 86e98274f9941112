package dev.advinterp.experiments.activations;

import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.experiments.attacks.Attack;
import dev.advinterp.experiments.attacks.AttackSpec;
import dev.advinterp.experiments.data.BatchLoader;
import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.nn.Activations;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.train.Batch;
import dev.advinterp.nn.train.ProgressBar;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * One pass over an evaluation set that records, per image, the model's top-5 on the clean image
 * and on its adversarial version and, optionally, a layer's per-unit maxima on both
 * ({@link Recording}). Per batch: a forward pass of the clean images (capturing the layer), the
 * attack (FGSM: one gradient pass), a forward pass of the adversarial images (capturing the layer
 * again). The model is in evaluation mode throughout. The recording continues where it stopped.
 *
 * <p>Adversarial images are labelled with their clean image's class; the attack is given the
 * labels (or, for a targeted attack, its targets: {@link AttackSpec#goals}).
 */
public final class ActivationRecorder {
    public static final int TOP = 5;

    private ActivationRecorder() {
    }

    /**
     * Records {@code data} into {@code recording}, from its {@link Recording#done()} image on.
     *
     * @param layer the layer whose activations to record (a module path), or null for predictions only
     */
    public static void record(ImageModel model, Dataset data, AttackSpec attackSpec, String layer, int batch, Recording recording,
                              PrintStream progress) throws IOException {
        Attack attack = attackSpec.build();
        int start = recording.done();
        if (start >= data.size()) return;
        try (var mode = model.inMode(false);
             BatchLoader loader = BatchLoader.evaluation(data, batch);
             ProgressBar bar = new ProgressBar(progress, "record " + (layer == null ? "" : layer + ", ") + attack.name(), data.size() - start)) {
            int index = 0, correct = 0, advCorrect = 0, seen = 0;
            for (Iterator<Batch> it = loader.epoch(0); it.hasNext(); ) {
                Batch b = it.next();
                if (index + b.n() <= start) {
                    index += b.n();
                    continue;
                }
                List<Recording.Image> rows = new ArrayList<>(b.n());
                float[] realMax = null, advMax = null;
                int units = 0;
                try (Scope s = Scope.open()) {
                    Tensor x = b.tensor();
                    Forward clean = forward(model, x, layer);
                    Tensor adv = attack.perturb(model, x, attackSpec.goals(attack, model, x, b.labels(), index));
                    Forward attacked = forward(model, adv, layer);
                    Prediction[] pc = Prediction.topK(clean.logits, b.n(), TOP), pa = Prediction.topK(attacked.logits, b.n(), TOP);
                    if (layer != null) {
                        units = clean.max.length / b.n();
                        realMax = clean.max;
                        advMax = attacked.max;
                    }
                    for (int i = 0; i < b.n(); i++) {
                        if (index + i < start) continue;
                        rows.add(new Recording.Image(index + i, b.labels()[i], pc[i], pa[i]));
                        seen++;
                        if (pc[i].top1() == b.labels()[i]) correct++;
                        if (pa[i].top1() == b.labels()[i]) advCorrect++;
                    }
                }
                int skip = start - index;
                if (skip > 0 && realMax != null) {
                    realMax = java.util.Arrays.copyOfRange(realMax, skip * units, realMax.length);
                    advMax = java.util.Arrays.copyOfRange(advMax, skip * units, advMax.length);
                }
                recording.append(rows, realMax, advMax, units);
                bar.step(rows.size(), String.format(Locale.ROOT, "top-1 clean %.1f%% adversarial %.1f%%", 100.0 * correct / seen,
                        100.0 * advCorrect / seen));
                index += b.n();
            }
        }
    }

    /** The logits and the layer's per-unit maxima of one forward pass, on the host. */
    private record Forward(float[] logits, float[] max) {
    }

    private static Forward forward(ImageModel model, Tensor x, String layer) {
        try (Scope s = Scope.open()) {
            if (layer == null) return new Forward(model.call(x).toArray(), null);
            try (Activations cap = Activations.capture(layer)) {
                Tensor logits = model.call(x);
                return new Forward(logits.toArray(), SpatialMax.of(cap.get(layer)));
            }
        }
    }
}
