package dev.advinterp.experiments.training;

import dev.advinterp.engine.Gradients;
import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tape;
import dev.advinterp.engine.Tensor;
import dev.advinterp.experiments.attacks.Fgsm;
import dev.advinterp.nn.Activations;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.train.Objective;
import dev.advinterp.experiments.testing.TinyNet;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class ConsistentLossTest {
    private static final int[] Y = {0, 1, 2, 3};

    private static ImageModel tiny() {
        return new TinyNet(3);
    }

    /** The one-tape fused step equals the three terms differentiated on separate tapes. */
    @Test
    void gradientsEqualTheSumOfTheSeparateTerms() {
        var opts = new ConsistentLoss.Options(0.3f, 2f, 6f, null, false, 1);
        try (ImageModel m = tiny(); Scope s = Scope.open()) {
            m.eval();
            Tensor x = Tensor.rand(5, 0f, 1f, 4, 1, 28, 28);
            Tensor w = m.namedParameters().get("conv.weight");
            float[] fused;
            try (Tape t = Tape.start()) {
                Objective.Output o = new ConsistentLoss(opts).compute(m, x, Y);
                Gradients g = t.backward(o.loss());
                fused = g.of(w).toArray();
                assertFalse(g.has(x), "the image's gradient is FGSM's only: the training backward computes none");
            }
            try (Tape t = Tape.start()) {
                t.watch(x);
                Gradients g = t.backward(new ConsistentLoss(opts).compute(m, x, Y).loss());
                assertTrue(g.has(x), "a caller that watches the image still gets its gradient");
                assertArrayEquals(fused, g.of(w).toArray());
            }
            Tensor xAdv = new Fgsm(6f).perturb(m, x, Y);
            float[] expected = new float[fused.length];
            try (Tape t = Tape.start(); Activations cap = Activations.capture("relu")) {
                Tensor ce = Ops.softmaxCrossEntropy(m.call(x), Y);
                Tensor phi = cap.get("relu");
                Tensor ceAdv = Ops.softmaxCrossEntropy(m.call(xAdv), Y);
                Tensor phiAdv = cap.get("relu");
                Tensor loss = Ops.add(Ops.add(Ops.scale(ce, 0.3f), Ops.scale(ceAdv, 0.7f)), Ops.scale(Ops.featureMatching(phi, phiAdv), 2f));
                Gradients g = t.backward(loss);
                System.arraycopy(g.of(w).toArray(), 0, expected, 0, expected.length);
            }
            for (int i = 0; i < fused.length; i++) {
                assertEquals(expected[i], fused[i], 1e-5f * Math.max(1f, Math.abs(expected[i])), "conv.weight[" + i + "]");
            }
        }
    }

    /** Central differences on a few weights (x* held fixed: FGSM's sign does not change under a 1e-3 nudge). */
    @Test
    void gradientsMatchFiniteDifferences() {
        var opts = new ConsistentLoss.Options(0.5f, 1f, 4f, null, false, 1);
        try (ImageModel m = tiny(); Scope s = Scope.open()) {
            m.eval();
            Tensor x = Tensor.rand(6, 0f, 1f, 4, 1, 28, 28);
            Tensor w = m.namedParameters().get("fc.weight");
            float[] analytic;
            try (Tape t = Tape.start()) {
                analytic = t.backward(new ConsistentLoss(opts).compute(m, x, Y).loss()).of(w).toArray();
            }
            float[] w0 = w.toArray();
            float h = 1e-3f;
            for (int i : new int[]{0, 5, 11, 17}) {
                double plus = lossWith(m, x, w, w0, i, h, opts), minus = lossWith(m, x, w, w0, i, -h, opts);
                double numeric = (plus - minus) / (2 * h);
                // float32 losses of order 1 and h = 1e-3: about 1e-4 of noise in the difference quotient
                assertEquals(numeric, analytic[i], 2e-3 + 2e-2 * Math.abs(numeric), "fc.weight[" + i + "]");
            }
            w.copyFrom(Tensor.of(w0, w.shape().dims()));
        }
    }

    private static double lossWith(ImageModel m, Tensor x, Tensor w, float[] w0, int i, float h, ConsistentLoss.Options o) {
        float[] v = w0.clone();
        v[i] += h;
        try (Scope s = Scope.open(); Tape t = Tape.start()) {
            w.copyFrom(Tensor.of(v, w.shape().dims()));
            return new ConsistentLoss(o).compute(m, x, Y).loss().item();
        }
    }

    @Test
    void unrelaxedFormRunsAndItsFeatureTermIsAtLeastTheRelaxedOne() {
        try (ImageModel m = tiny(); Scope s = Scope.open()) {
            m.eval();
            Tensor x = Tensor.rand(7, 0f, 1f, 4, 1, 28, 28);
            float relaxed, unrelaxed;
            try (Tape t = Tape.start()) {
                relaxed = new ConsistentLoss(new ConsistentLoss.Options(0f, 1f, 8f, null, false, 1)).compute(m, x, Y).loss().item();
            }
            try (Tape t = Tape.start()) {
                var o = new ConsistentLoss(new ConsistentLoss.Options(0f, 1f, 8f, null, true, 5)).compute(m, x, Y);
                unrelaxed = o.loss().item();
                assertNotNull(t.backward(o.loss()));
            }
            assertTrue(Float.isFinite(unrelaxed) && Float.isFinite(relaxed));
        }
    }

    @Test
    void outsideATapeIsAClearError() {
        try (ImageModel m = tiny(); Scope s = Scope.open()) {
            var e = assertThrows(IllegalStateException.class,
                    () -> new ConsistentLoss(ConsistentLoss.Options.defaults()).compute(m, Tensor.rand(1, 0f, 1f, 4, 1, 28, 28), Y));
            assertTrue(e.getMessage().contains("tape"), e.getMessage());
        }
    }
}
