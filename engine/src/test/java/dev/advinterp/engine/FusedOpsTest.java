package dev.advinterp.engine;

import dev.advinterp.engine.GradCheck.Input;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.SplittableRandom;
import java.util.stream.Stream;

import static dev.advinterp.engine.TestData.*;
import static org.junit.jupiter.api.Assertions.*;

/** The fused ops: the two losses with their gradients, and the in-place FGSM and SGD updates. */
class FusedOpsTest {

    // ---------------------------------------------------------------- softmax cross-entropy

    record SoftmaxCrossEntropyCase(int rows, int classes, float spread, long seed) {
    }

    static Stream<SoftmaxCrossEntropyCase> softmaxCrossEntropyCases() {
        return Cases.draw(201, 25, d -> new SoftmaxCrossEntropyCase(d.between(1, 16), d.between(1, 20), d.between(0.1f, 10f),
                d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("softmaxCrossEntropyCases")
    void softmaxCrossEntropy(SoftmaxCrossEntropyCase c) {
        int rows = c.rows(), classes = c.classes();
        float spread = c.spread();
        long seed = c.seed();
        SplittableRandom r = new SplittableRandom(seed);
        int[] labels = labels(r, rows, classes);
        GradCheck.check("softmaxCrossEntropy " + rows + "x" + classes, seed,
                t -> Ops.softmaxCrossEntropy(t[0], labels),
                in -> new double[]{Ref64.softmaxCrossEntropy(in[0], rows, classes, labels)},
                Input.diff("logits", normal(r, rows * classes, spread), rows, classes));
    }

    @Test
    void softmaxCrossEntropyIsStableForLargeLogits() {
        // exp(±1000) overflows; the loss and gradient must come from shifted logits
        float[] logits = {1000, 1001, 999, -1000, -1001, -999};
        int[] labels = {2, 1};
        GradCheck.check("softmaxCrossEntropy, large logits", 40, t -> Ops.softmaxCrossEntropy(t[0], labels),
                in -> new double[]{Ref64.softmaxCrossEntropy(in[0], 2, 3, labels)}, Input.diff("logits", logits, 2, 3));
    }

    @Test
    void softmaxCrossEntropyWithoutATapeGivesTheSameLoss() {
        float[] logits = normal(new SplittableRandom(41), 12, 2);
        int[] labels = {0, 3, 2};
        try (var s = Scope.open()) {
            float plain = Ops.softmaxCrossEntropy(Tensor.of(logits, 3, 4), labels).item();
            float recorded;
            try (var tape = Tape.start()) {
                Tensor x = tape.watch(Tensor.of(logits, 3, 4));
                recorded = Ops.softmaxCrossEntropy(x, labels).item();
            }
            assertEquals(Float.floatToIntBits(plain), Float.floatToIntBits(recorded));
            // one float32 rounding of a float64 loss
            assertEquals(Ref64.softmaxCrossEntropy(f64(logits), 3, 4, labels), plain, 1e-6 * Math.abs(plain));
        }
    }

    // ---------------------------------------------------------------- feature matching

    record FeatureMatchingCase(int n, int c, int hw, long seed) {
    }

    static Stream<FeatureMatchingCase> featureMatchingCases() {
        return Cases.draw(202, 20, d -> new FeatureMatchingCase(d.between(1, 4), d.between(1, 5), d.between(1, 30), d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("featureMatchingCases")
    void featureMatching(FeatureMatchingCase fc) {
        int n = fc.n(), c = fc.c(), hw = fc.hw();
        long seed = fc.seed();
        SplittableRandom r = new SplittableRandom(seed);
        GradCheck.check("featureMatching", seed, t -> Ops.featureMatching(t[0], t[1]),
                in -> new double[]{Ref64.featureMatching(in[0], in[1])},
                Input.diff("a", normal(r, n * c * hw, 1), n, c, hw), Input.diff("b", normal(r, n * c * hw, 1), n, c, hw));
    }

    @Test
    void featureMatchingOverSeveralBlocksWithOneSideTracked() {
        // 70 001 elements: the blocked, parallel reduction; only a tracked side gets a gradient
        int n = 70_001;
        SplittableRandom r = new SplittableRandom(42);
        float[] b = normal(r, n, 1);
        GradCheck.check("featureMatching, large", 42, t -> Ops.featureMatching(t[0], Tensor.of(b, n)),
                in -> new double[]{Ref64.featureMatching(in[0], f64(b))}, Input.diff("a", normal(r, n, 1), n));
    }

    // ---------------------------------------------------------------- FGSM step

    /** One FGSM step on random data against {@link Ref64#fgsmStep}. */
    record FgsmStepCase(int n, int c, int h, int w, float alpha, float eps, boolean perChannel, long seed) {
    }

    static Stream<FgsmStepCase> fgsmStepCases() {
        return Cases.draw(203, 30, d -> new FgsmStepCase(d.between(1, 3), d.between(1, 4), d.between(1, 6), d.between(1, 6),
                d.between(0f, 0.2f, 4), d.between(0f, 0.2f, 4), d.bool(), d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fgsmStepCases")
    void fgsmStepMatchesTheFormula(FgsmStepCase fc) {
        int n = fc.n(), c = fc.c(), h = fc.h(), w = fc.w();
        float alpha = fc.alpha(), eps = fc.eps();
        boolean perChannel = fc.perChannel();
        long seed = fc.seed();
        SplittableRandom r = new SplittableRandom(seed);
        int size = n * c * h * w;
        float[] x0 = uniform(r, size, 0, 1);
        float[] x = x0.clone();
        for (int i = 0; i < size; i++) x[i] += (float) (eps * (2 * r.nextDouble() - 1));
        float[] g = normal(r, size, 1);
        for (int i = 0; i < size; i++) if (r.nextInt(4) == 0) g[i] = 0f; // sign(0) = 0 must leave them in place
        int nb = perChannel ? c : 1;
        float[] lo = uniform(r, nb, -0.2, 0.3), hi = new float[nb];
        for (int i = 0; i < nb; i++) hi[i] = lo[i] + (float) (0.3 + r.nextDouble());
        double[] want = Ref64.fgsmStep(f64(x), f64(g), f64(x0), alpha, eps, f64(lo), f64(hi), c, h * w);
        try (var s = Scope.open()) {
            Tensor tx = Tensor.of(x, n, c, h, w);
            Ops.fgsmStep(tx, Tensor.of(g, n, c, h, w), Tensor.of(x0, n, c, h, w), alpha, eps, lo, hi);
            float[] got = tx.toArray();
            for (int i = 0; i < size; i++) {
                // x + α and x0 ± ε are each one float32 rounding of values below 2
                assertEquals(want[i], got[i], 1e-6, "element " + i);
            }
        }
    }

    // ---------------------------------------------------------------- the L2 attacks' steps

    record L2StepCase(int n, int c, int hw, float alpha, float eps, long seed) {
    }

    static Stream<L2StepCase> l2StepCases() {
        return Cases.draw(210, 25, d -> new L2StepCase(d.between(1, 4), d.between(1, 3), d.between(1, 20),
                d.between(0.01f, 0.5f, 4), d.between(0.01f, 0.5f, 4), d.seed()));
    }

    /** One PGD-L2 step on random data against {@link Ref64#l2Step}: a gradient of zeros in the first image moves nothing. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("l2StepCases")
    void l2StepMatchesTheFormula(L2StepCase c) {
        int n = c.n(), size = n * c.c() * c.hw() * c.hw(), per = size / n;
        SplittableRandom r = new SplittableRandom(c.seed());
        float[] x0 = uniform(r, size, 0, 1), x = x0.clone(), g = normal(r, size, 1);
        for (int i = 0; i < size; i++) x[i] = Math.min(1f, Math.max(0f, x[i] + (float) (0.05 * r.nextGaussian())));
        java.util.Arrays.fill(g, 0, per, 0f);
        double[] want = Ref64.l2Step(f64(x), f64(g), f64(x0), n, c.alpha(), c.eps(), 0, 1);
        try (var s = Scope.open()) {
            Tensor tx = Tensor.of(x, n, c.c(), c.hw(), c.hw());
            Ops.l2Step(tx, Tensor.of(g, n, c.c(), c.hw(), c.hw()), Tensor.of(x0, n, c.c(), c.hw(), c.hw()), c.alpha(), c.eps(), 0f, 1f);
            // a few float32 roundings of values in [0, 1]
            assertClose("l2Step " + c, want, tx.toArray(), 1e-6);
        }
        double[] moved = new double[per];
        for (int j = 0; j < per; j++) moved[j] = want[j] - x0[j];
        double dist = Math.sqrt(Ref64.sum(java.util.Arrays.stream(moved).map(v -> v * v).toArray()));
        assertTrue(dist <= c.eps() * (1 + 1e-9), "the step stays in the ε-ball: " + dist);
    }

    @Test
    void l2StepByHand() {
        try (var s = Scope.open()) {
            // one image of 2 values: g/‖g‖ = (0.6, 0.8); α = 0.5 moves by (0.3, 0.4), a distance of 0.5 > ε = 0.25,
            // so the projection halves the move; the second image's move is clipped to [0, 1]
            Tensor x0 = Tensor.of(new float[]{0.5f, 0.5f, 0.9f, 0.1f}, 2, 2), x = x0.copy();
            Tensor g = Tensor.of(new float[]{3f, 4f, 1f, 0f}, 2, 2);
            Ops.l2Step(x, g, x0, 0.5f, 0.25f, 0f, 1f);
            assertArrayEquals(new float[]{0.65f, 0.7f, 1f, 0.1f}, x.toArray(), 1e-6f);
        }
    }

    record L2AdamStepCase(int n, int per, int steps, float lr, long seed) {
    }

    static Stream<L2AdamStepCase> l2AdamStepCases() {
        return Cases.draw(211, 20, d -> new L2AdamStepCase(d.between(1, 4), d.between(1, 300), d.between(1, 4),
                d.between(0.001f, 0.05f, 4), d.seed()));
    }

    /** A few Adam steps from x0 (the first has no distance gradient) against {@link Ref64#l2AdamStep}, moments kept on the device. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("l2AdamStepCases")
    void l2AdamStepsMatchTheFormula(L2AdamStepCase c) {
        int n = c.n(), size = n * c.per();
        SplittableRandom r = new SplittableRandom(c.seed());
        float[] x0 = uniform(r, size, 0, 1);
        double[] w = new double[n];
        for (int i = 0; i < n; i++) w[i] = 0.1 + 10 * r.nextDouble();
        double[] x = f64(x0), m = new double[size], v = new double[size];
        try (var s = Scope.open()) {
            Tensor tx = Tensor.of(x0, n, c.per()), t0 = Tensor.of(x0, n, c.per()), tm = Tensor.zeros(n, c.per()), tv = Tensor.zeros(n, c.per());
            for (int step = 1; step <= c.steps(); step++) {
                float[] g = normal(r, size, 1);
                x = Ref64.l2AdamStep(x, f64(g), f64(x0), m, v, w, step, c.lr(), 0.9, 0.999, 1e-8, 0, 1);
                Ops.l2AdamStep(tx, Tensor.of(g, n, c.per()), t0, tm, tv, w, step, c.lr(), 0.9, 0.999, 1e-8, 0f, 1f);
                // the moments are stored as float32 each step; Adam's step is lr-sized, about lr·1e-7 apart
                assertClose("l2AdamStep " + c + " step " + step, x, tx.toArray(), 1e-6);
                assertClose("l2AdamStep first moment", m, tm.toArray(), 1e-5);
            }
        }
    }

    @Test
    void fgsmStepByHand() {
        try (var s = Scope.open()) {
            Tensor x0 = Tensor.of(new float[]{0.5f, 0.5f, 0.98f, 0.02f, 0.3f}, 5);
            Tensor x = x0.copy();
            Tensor g = Tensor.of(new float[]{2f, -0.5f, 1f, -1f, 0f}, 5);
            Ops.fgsmStep(x, g, x0, 0.1f, 0.05f, new float[]{0f}, new float[]{1f});
            // ±α clipped to the ε-ball, then to [0, 1]; a zero gradient moves nothing
            assertArrayEquals(new float[]{0.55f, 0.45f, 1f, 0f, 0.3f}, x.toArray(), 1e-7f);
        }
    }

    @Test
    void fgsmStepUsesEachChannelsBounds() {
        try (var s = Scope.open()) {
            // [n=2, c=2, 2]: channel 0 bounded to [0, 1], channel 1 to [-1, 0.25]
            float[] v = {0.9f, 0.1f, 0.2f, -0.9f, 0.9f, 0.1f, 0.2f, -0.9f};
            Tensor x0 = Tensor.of(v, 2, 2, 2), x = x0.copy();
            Tensor g = Tensor.of(new float[]{1, -1, 1, -1, 1, -1, 1, -1}, 2, 2, 2);
            Ops.fgsmStep(x, g, x0, 0.5f, 10f, new float[]{0f, -1f}, new float[]{1f, 0.25f});
            assertArrayEquals(new float[]{1f, 0f, 0.25f, -1f, 1f, 0f, 0.25f, -1f}, x.toArray(), 1e-7f);
        }
    }

    @Test
    void fgsmStepOnRank2AndRank1() {
        try (var s = Scope.open()) {
            // [n, c]: the channel is dimension 1
            Tensor x = Tensor.zeros(2, 3);
            Ops.fgsmStep(x, Tensor.full(Shape.of(2, 3), 1f), Tensor.zeros(2, 3), 1f, 1f, new float[]{0, 0, 0},
                    new float[]{0.1f, 0.2f, 0.3f});
            assertArrayEquals(new float[]{0.1f, 0.2f, 0.3f, 0.1f, 0.2f, 0.3f}, x.toArray());
            Tensor y = Tensor.zeros(4);
            Ops.fgsmStep(y, Tensor.of(new float[]{1, -1, 0, 3}, 4), Tensor.zeros(4), 0.5f, 0.25f, new float[]{-1}, new float[]{1});
            assertArrayEquals(new float[]{0.25f, -0.25f, 0f, 0.25f}, y.toArray());
        }
    }

    record IteratedStepsCase(int c, float eps, long seed) {
    }

    static Stream<IteratedStepsCase> iteratedStepsCases() {
        return Cases.draw(204, 15, d -> new IteratedStepsCase(d.between(1, 3), d.between(0.001f, 0.1f, 4), d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("iteratedStepsCases")
    void iteratedStepsStayInsideTheBallAndTheBounds(IteratedStepsCase ic) {
        int c = ic.c();
        float eps = ic.eps();
        long seed = ic.seed();
        SplittableRandom r = new SplittableRandom(seed);
        int size = 2 * c * 16;
        float[] x0 = uniform(r, size, 0, 1);
        try (var s = Scope.open()) {
            Tensor clean = Tensor.of(x0, 2, c, 4, 4), x = clean.copy();
            for (int step = 0; step < 6; step++) {
                Ops.fgsmStep(x, Tensor.of(normal(r, size, 1), 2, c, 4, 4), clean, eps / 3, eps, new float[]{0}, new float[]{1});
            }
            float[] v = x.toArray();
            for (int i = 0; i < size; i++) {
                // the bounds are computed in float32 from x0 and ε: one rounding
                assertTrue(Math.abs(v[i] - x0[i]) <= eps + 1e-6, "element " + i + " left the ε-ball");
                assertTrue(v[i] >= 0 && v[i] <= 1, "element " + i + " left [0, 1]");
            }
        }
    }

    // ---------------------------------------------------------------- SGD step

    record SgdStepCase(int n, float lr, float momentumRaw, boolean withMomentum, float wd, boolean nesterovRaw, long seed) {
    }

    static Stream<SgdStepCase> sgdStepCases() {
        return Cases.draw(205, 25, d -> new SgdStepCase(d.between(1, 70_000), d.between(0f, 0.5f, 4), d.between(0f, 0.99f, 4),
                d.bool(), d.between(0f, 0.1f, 4), d.bool(), d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sgdStepCases")
    void sgdStepMatchesPyTorch(SgdStepCase c) {
        int n = c.n();
        float lr = c.lr(), momentumRaw = c.momentumRaw(), wd = c.wd();
        boolean withMomentum = c.withMomentum(), nesterovRaw = c.nesterovRaw();
        long seed = c.seed();
        float momentum = withMomentum ? Math.max(momentumRaw, 0.01f) : 0f;
        boolean nesterov = withMomentum && nesterovRaw;
        SplittableRandom r = new SplittableRandom(seed);
        float[] p = normal(r, n, 1);
        double[] p64 = f64(p), buf64 = null;
        try (var s = Scope.open()) {
            Tensor param = Tensor.of(p, n), buf = withMomentum ? Tensor.zeros(n) : null;
            for (int step = 0; step < 3; step++) {
                float[] g = normal(r, n, 1);
                Ops.sgdStep(param, Tensor.of(g, n), buf, lr, momentum, wd, nesterov);
                buf64 = Ref64.sgdStep(p64, f64(g), buf64, lr, momentum, wd, nesterov);
            }
            // three steps of a few float32 operations each on O(1) values
            assertClose("parameter", p64, param.toArray(), 1e-5);
            if (withMomentum) assertClose("momentum buffer", buf64, buf.toArray(), 1e-5);
        }
    }

    @Test
    void sgdStepByHand() {
        try (var s = Scope.open()) {
            Tensor p = Tensor.of(new float[]{1f, -2f}, 2), buf = Tensor.zeros(2);
            Tensor g = Tensor.of(new float[]{0.5f, 1f}, 2);
            // d = g + 0.1·p = [0.6, 0.8]; buf = d; nesterov: p −= 0.1·(d + 0.9·buf) = 0.1·1.9·d
            Ops.sgdStep(p, g, buf, 0.1f, 0.9f, 0.1f, true);
            assertArrayEquals(new float[]{0.6f, 0.8f}, buf.toArray(), 1e-7f);
            assertArrayEquals(new float[]{1f - 0.114f, -2f - 0.152f}, p.toArray(), 1e-6f);
            // second step: d = g + 0.1·p; buf = 0.9·buf + d; p −= 0.1·(d + 0.9·buf)
            float d0 = 0.5f + 0.1f * 0.886f, b0 = 0.9f * 0.6f + d0;
            Ops.sgdStep(p, g, buf, 0.1f, 0.9f, 0.1f, true);
            assertEquals(b0, buf.get(0), 1e-6f);
            assertEquals(0.886f - 0.1f * (d0 + 0.9f * b0), p.get(0), 1e-6f);
        }
    }
}
