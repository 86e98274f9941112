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
import java.util.Iterator;

/**
 * One pass over an image set that hands over, batch by batch, a layer's whole activation maps
 * on the clean images and, when an attack is given, on their adversarial versions (network
 * dissection needs every spatial position, not the per-image maxima {@link Recording} keeps). A
 * batch's maps live only while its consumer runs; nothing accumulates here. The model is in
 * evaluation mode throughout, and the same batches give the same maps, so a second pass sees what
 * the first saw.
 */
public final class MapPass {

    /**
     * One batch's maps {@code [n, units, h, w]} (row-major, host memory).
     *
     * @param offset            the dataset index of the batch's first image
     * @param adversarial       the maps on the adversarial images, or null without an attack
     * @param adversarialImages the adversarial images themselves when asked for, else null
     */
    public record Maps(int offset, Batch batch, float[] real, float[] adversarial, float[] adversarialImages, int units, int h, int w) {
    }

    @FunctionalInterface
    public interface Consumer {
        void accept(Maps maps) throws IOException;
    }

    private MapPass() {
    }

    /**
     * @param attack     the attack that makes the adversarial images (null: clean images only); it is given the labels, or a
     *                   targeted attack its targets ({@link AttackSpec#goals})
     * @param start      the first batch to compute is the one holding this dataset index (earlier ones are skipped unread by the model)
     * @param keepImages whether to hand over the adversarial images too
     */
    public static void run(ImageModel model, Dataset data, AttackSpec attack, String layer, int batch, int start, boolean keepImages, String task,
                           PrintStream progress, Consumer consumer) throws IOException {
        Attack built = attack == null ? null : attack.build();
        if (!model.namedModules().containsKey(layer)) {
            throw new IllegalArgumentException("layer " + layer + ": the model has no such module (its modules: " + model.namedModules().keySet() + ")");
        }
        try (var mode = model.inMode(false);
             BatchLoader loader = BatchLoader.evaluation(data, batch);
             ProgressBar bar = new ProgressBar(progress, task, data.size() - start)) {
            int index = 0;
            for (Iterator<Batch> it = loader.epoch(0); it.hasNext(); ) {
                Batch b = it.next();
                if (index + b.n() <= start) {
                    index += b.n();
                    continue;
                }
                Maps maps;
                try (Scope s = Scope.open()) {
                    Tensor x = b.tensor();
                    Tensor real = capture(model, x, layer);
                    float[] advMaps = null, advImages = null;
                    if (attack != null) {
                        Tensor adv = built.perturb(model, x, attack.goals(built, model, x, b.labels(), index));
                        advMaps = capture(model, adv, layer).toArray();
                        if (keepImages) advImages = adv.toArray();
                    }
                    if (real.rank() != 4) throw new IllegalArgumentException("layer " + layer + " gives " + real.shape() + ", not maps [n, c, h, w]");
                    maps = new Maps(index, b, real.toArray(), advMaps, advImages, real.dim(1), real.dim(2), real.dim(3));
                }
                consumer.accept(maps);
                bar.step(b.n(), "");
                index += b.n();
            }
        }
    }

    /** The layer's output for {@code x}, kept in the caller's scope. */
    private static Tensor capture(ImageModel model, Tensor x, String layer) {
        try (Activations cap = Activations.capture(layer)) {
            model.call(x);
            return cap.get(layer);
        }
    }
}
