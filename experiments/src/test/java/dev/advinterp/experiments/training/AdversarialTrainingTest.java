package dev.advinterp.experiments.training;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.experiments.attacks.Fgsm;
import dev.advinterp.experiments.data.Augmentation;
import dev.advinterp.experiments.data.BatchLoader;
import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.experiments.data.FashionMnist;
import dev.advinterp.experiments.data.Sample;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.optim.LrSchedule;
import dev.advinterp.nn.optim.Sgd;
import dev.advinterp.nn.train.Batch;
import dev.advinterp.nn.train.Objective;
import dev.advinterp.nn.train.Trainer;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The consistent loss buys FGSM robustness: the same model, data and seed, trained both ways. */
class AdversarialTrainingTest {
    private static final float EPS = 16f;

    private static Dataset first(Dataset d, int n) {
        return new Dataset() {
            public String name() { return d.name() + "[:" + n + "]"; }
            public int size() { return n; }
            public List<String> classes() { return d.classes(); }
            public int channels() { return d.channels(); }
            public int height() { return d.height(); }
            public int width() { return d.width(); }
            public Sample get(int i, SplittableRandom r) { return d.get(i, r); }
        };
    }

    private static double fgsmAccuracy(ImageModel m, BatchLoader test) {
        long correct = 0, n = 0;
        m.eval();
        for (Iterator<Batch> it = test.epoch(0); it.hasNext(); ) {
            Batch b = it.next();
            try (Scope s = Scope.open()) {
                Tensor adv = new Fgsm(EPS).perturb(m, b.tensor(), b.labels());
                int[] p = Ops.argmax(m.call(adv));
                for (int i = 0; i < b.n(); i++) if (p[i] == b.labels()[i]) correct++;
                n += b.n();
            }
        }
        return (double) correct / n;
    }

    @Test
    void consistentLossTrainingBeatsNormalTrainingUnderFgsm() throws IOException {
        assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIR), "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)");
        Dataset train = first(FashionMnist.train(FashionMnist.DEFAULT_DIR), 3000);
        Dataset test = first(FashionMnist.test(FashionMnist.DEFAULT_DIR), 500);
        var opts = new Trainer.Options(3, new Sgd.Options(0.05f, 0.9f, 5e-4f, false), new LrSchedule.Constant(), 4, null, null, false, null);
        double normal, adversarial;
        try (ImageModel m = new SmallCnn(9); BatchLoader tl = BatchLoader.training(train, 64, 4, Augmentation.none());
             BatchLoader el = BatchLoader.evaluation(test, 100)) {
            new Trainer(opts, Objective.crossEntropy()).fit(m, tl, null);
            normal = fgsmAccuracy(m, el);
        }
        try (ImageModel m = new SmallCnn(9); BatchLoader tl = BatchLoader.training(train, 64, 4, Augmentation.none());
             BatchLoader el = BatchLoader.evaluation(test, 100)) {
            new Trainer(opts, new ConsistentLoss(new ConsistentLoss.Options(0.5f, 1f, EPS, null, false, 1))).fit(m, tl, null);
            adversarial = fgsmAccuracy(m, el);
        }
        System.out.printf("FGSM(eps=%s) accuracy: normal %.3f, consistent loss %.3f%n", EPS, normal, adversarial);
        assertTrue(adversarial > normal + 0.05, "FGSM(ε=" + EPS + ") accuracy: consistent loss " + adversarial + ", normal " + normal);
    }
}
