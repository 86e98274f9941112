package dev.advinterp.engine;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static dev.advinterp.engine.TestData.normal;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The same computation gives the same bits every time: parallel loops split work by size only,
 * reductions add fixed blocks in a fixed order, and dropout's mask comes from its seed. Compared
 * with {@link Float#floatToIntBits}, so a difference in the last bit fails.
 */
class DeterminismTest {

    /** Every float a training step produces: loss, gradients, updated running statistics, output. */
    private static List<float[]> trainingStep(long seed, int batch, int size) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] xs = normal(r, batch * 3 * size * size, 1);
        float[] w1 = normal(r, 8 * 3 * 9, 0.3), b1 = normal(r, 8, 0.1), w2 = normal(r, 6 * 8 * 9, 0.2);
        float[] fc = normal(r, 5 * 6 * 4, 0.3), fb = normal(r, 5, 0.1);
        int[] labels = TestData.labels(r, batch, 5);
        List<float[]> out = new ArrayList<>();
        try (var s = Scope.open(); var tape = Tape.start()) {
            Tensor x = tape.watch(Tensor.of(xs, batch, 3, size, size));
            Tensor cw1 = Tensor.of(w1, 8, 3, 3, 3).requiresGrad(true), cb1 = Tensor.of(b1, 8).requiresGrad(true);
            Tensor cw2 = Tensor.of(w2, 6, 8, 3, 3).requiresGrad(true);
            Tensor gamma = Tensor.full(Shape.of(8), 1f).requiresGrad(true), beta = Tensor.zeros(8).requiresGrad(true);
            Tensor rm = Tensor.zeros(8), rv = Tensor.full(Shape.of(8), 1f);
            Tensor lw = Tensor.of(fc, 5, 24).requiresGrad(true), lb = Tensor.of(fb, 5).requiresGrad(true);

            Tensor h = Ops.conv2d(x, cw1, cb1, 1, 1);
            h = Ops.relu(Ops.batchNorm(h, gamma, beta, rm, rv, true, 0.1f, 1e-5f));
            h = Ops.maxPool2d(h, 2, 2, 0);
            Tensor features = Ops.conv2d(h, cw2, null, 2, 1);
            h = Ops.adaptiveAvgPool2d(Ops.relu(features), 2, 2);
            h = Ops.dropout(Ops.flatten(h), 0.25f, seed, true);
            Tensor logits = Ops.linear(h, lw, lb);
            Tensor ce = Ops.softmaxCrossEntropy(logits, labels);
            Tensor fm = Ops.featureMatching(features, Ops.scale(features, 0.9f));
            Tensor loss = Ops.add(ce, Ops.scale(fm, 0.5f));

            Gradients g = tape.backward(loss);
            out.add(loss.toArray());
            out.add(logits.toArray());
            for (Tensor t : new Tensor[]{x, cw1, cb1, cw2, gamma, beta, lw, lb}) out.add(g.of(t).toArray());
            out.add(rm.toArray());
            out.add(rv.toArray());
        }
        return out;
    }

    private static void assertSameBits(List<float[]> a, List<float[]> b) {
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            int[] ia = new int[a.get(i).length], ib = new int[b.get(i).length];
            for (int j = 0; j < ia.length; j++) ia[j] = Float.floatToIntBits(a.get(i)[j]);
            for (int j = 0; j < ib.length; j++) ib[j] = Float.floatToIntBits(b.get(i)[j]);
            assertArrayEquals(ia, ib, "result " + i + " differs between two identical runs");
        }
    }

    @Test
    void aTrainingStepTwiceGivesIdenticalBits() {
        // a batch of 4 on 10×10: the grouped convolution path
        assertSameBits(trainingStep(60, 4, 10), trainingStep(60, 4, 10));
    }

    @Test
    void aLargerStepSplitOverThePoolGivesIdenticalBits() {
        // 8×8×32×32 activations: elementwise kernels and reductions run in several blocks on every thread
        List<float[]> first = trainingStep(61, 8, 32);
        // a bigger convolution in between grows the workspaces: results must not depend on them
        try (var s = Scope.open()) {
            Ops.conv2d(Tensor.zeros(2, 16, 40, 40), Tensor.zeros(16, 16, 5, 5), null, 1, 2);
        }
        assertSameBits(first, trainingStep(61, 8, 32));
    }
}
