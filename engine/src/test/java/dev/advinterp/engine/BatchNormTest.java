package dev.advinterp.engine;

import dev.advinterp.engine.GradCheck.Input;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.SplittableRandom;
import java.util.stream.Stream;

import static dev.advinterp.engine.TestData.*;
import static org.junit.jupiter.api.Assertions.*;

/** Batch normalisation in training and evaluation mode, on [n, c, h, w] and [n, c] inputs. */
class BatchNormTest {
    private static final float EPS = 1e-5f;

    private static int[] dims(int n, int c, int h, int w, boolean rank2) {
        return rank2 ? new int[]{n, c} : new int[]{n, c, h, w};
    }

    record TrainingForwardCase(int n, int c, int h, int w, boolean rank2, float momentum, long seed) {
    }

    static Stream<TrainingForwardCase> trainingForwardCases() {
        return Cases.draw(501, 25, d -> new TrainingForwardCase(d.between(1, 5), d.between(1, 4), d.between(1, 5), d.between(1, 5),
                d.bool(), d.between(0f, 1f), d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("trainingForwardCases")
    void trainingForwardAndRunningStatistics(TrainingForwardCase bc) {
        int n = bc.n(), c = bc.c(), h = bc.h(), w = bc.w();
        boolean rank2 = bc.rank2();
        float momentum = bc.momentum();
        long seed = bc.seed();
        int hw = rank2 ? 1 : h * w;
        if (n * hw < 2) n = 2; // training needs two values per channel
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = perChannelSpread(r, n, c, hw), gamma = normal(r, c, 1), beta = normal(r, c, 1);
        float[] rm = normal(r, c, 1), rv = uniform(r, c, 0.5, 2);
        Ref64.BatchNorm ref = Ref64.batchNormTrain(f64(x), f64(gamma), f64(beta), n, c, hw, EPS);
        try (var s = Scope.open()) {
            Tensor runMean = Tensor.of(rm, c), runVar = Tensor.of(rv, c);
            Tensor y = Ops.batchNorm(Tensor.of(x, dims(n, c, h, w, rank2)), Tensor.of(gamma, c), Tensor.of(beta, c), runMean,
                    runVar, true, momentum, EPS);
            assertEquals(Shape.of(dims(n, c, h, w, rank2)), y.shape());
            // float64 statistics, one float32 multiply-add per element
            assertClose("batchNorm training", ref.y(), y.toArray(), GradCheck.FORWARD_REL);
            double[] wantMean = new double[c], wantVar = new double[c];
            for (int ch = 0; ch < c; ch++) {
                // PyTorch: running = (1 − momentum)·running + momentum·batch, with the unbiased variance
                wantMean[ch] = (1 - momentum) * rm[ch] + momentum * ref.mean()[ch];
                wantVar[ch] = (1 - momentum) * rv[ch] + momentum * ref.unbiasedVar()[ch];
            }
            // float64 arithmetic rounded once to float32
            assertClose("running mean", wantMean, runMean.toArray(), 1e-6);
            assertClose("running variance", wantVar, runVar.toArray(), 1e-6);
        }
    }

    /** The shape of one case: [n, c, h, w], or [n, c] where rank2. */
    record ShapeCase(int n, int c, int h, int w, boolean rank2, long seed) {
    }

    static Stream<ShapeCase> evaluationForwardCases() {
        return Cases.draw(502, 25, d -> new ShapeCase(d.between(1, 4), d.between(1, 4), d.between(1, 5), d.between(1, 5), d.bool(),
                d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("evaluationForwardCases")
    void evaluationForwardLeavesRunningStatisticsAlone(ShapeCase bc) {
        int n = bc.n(), c = bc.c(), h = bc.h(), w = bc.w();
        boolean rank2 = bc.rank2();
        long seed = bc.seed();
        int hw = rank2 ? 1 : h * w;
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = normal(r, n * c * hw, 2), gamma = normal(r, c, 1), beta = normal(r, c, 1);
        float[] rm = normal(r, c, 1), rv = uniform(r, c, 0.1, 3);
        try (var s = Scope.open()) {
            Tensor runMean = Tensor.of(rm, c), runVar = Tensor.of(rv, c);
            Tensor y = Ops.batchNorm(Tensor.of(x, dims(n, c, h, w, rank2)), Tensor.of(gamma, c), Tensor.of(beta, c), runMean,
                    runVar, false, 0.1f, EPS);
            // one float32 multiply-add per element from float64 coefficients
            assertClose("batchNorm evaluation", Ref64.batchNormEval(f64(x), f64(gamma), f64(beta), f64(rm), f64(rv), n, c, hw, EPS),
                    y.toArray(), GradCheck.FORWARD_REL);
            assertArrayEquals(rm, runMean.toArray());
            assertArrayEquals(rv, runVar.toArray());
        }
    }

    static Stream<ShapeCase> trainingBackwardCases() {
        return Cases.draw(503, 20, d -> new ShapeCase(d.between(1, 4), d.between(1, 3), d.between(1, 4), d.between(1, 4), d.bool(),
                d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("trainingBackwardCases")
    void trainingBackward(ShapeCase bc) {
        int n = bc.n(), c = bc.c(), h = bc.h(), w = bc.w();
        boolean rank2 = bc.rank2();
        long seed = bc.seed();
        int hw = rank2 ? 1 : h * w;
        // with two values per channel the output is ±1 whatever x is: the true gradient is O(eps/σ³) and
        // only float32 cancellation noise is left to compare, so the gradient is checked from three values up
        int nn = n * hw < 3 ? 3 : n;
        SplittableRandom r = new SplittableRandom(seed);
        // spread-out channels: batch norm's derivatives grow as 1/σ, and central differences need σ well above H
        float[] x = perChannelSpread(r, nn, c, hw);
        GradCheck.check("batchNorm training " + (rank2 ? "[n, c]" : "[n, c, h, w]"), seed,
                t -> Ops.batchNorm(t[0], t[1], t[2], Tensor.zeros(c), Tensor.full(Shape.of(c), 1f), true, 0.1f, EPS),
                in -> Ref64.batchNormTrain(in[0], in[1], in[2], nn, c, hw, EPS).y(),
                Input.diff("x", x, dims(nn, c, h, w, rank2)), Input.diff("gamma", normal(r, c, 1), c),
                Input.diff("beta", normal(r, c, 1), c));
    }

    static Stream<ShapeCase> evaluationBackwardCases() {
        return Cases.draw(504, 15, d -> new ShapeCase(d.between(1, 4), d.between(1, 3), d.between(1, 4), d.between(1, 4), d.bool(),
                d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("evaluationBackwardCases")
    void evaluationBackward(ShapeCase bc) {
        int n = bc.n(), c = bc.c(), h = bc.h(), w = bc.w();
        boolean rank2 = bc.rank2();
        long seed = bc.seed();
        int hw = rank2 ? 1 : h * w;
        SplittableRandom r = new SplittableRandom(seed);
        float[] rm = normal(r, c, 1), rv = uniform(r, c, 0.2, 2);
        GradCheck.check("batchNorm evaluation", seed,
                t -> Ops.batchNorm(t[0], t[1], t[2], Tensor.of(rm, c), Tensor.of(rv, c), false, 0.1f, EPS),
                in -> Ref64.batchNormEval(in[0], in[1], in[2], f64(rm), f64(rv), n, c, hw, EPS),
                Input.diff("x", normal(r, n * c * hw, 1), dims(n, c, h, w, rank2)), Input.diff("gamma", normal(r, c, 1), c),
                Input.diff("beta", normal(r, c, 1), c));
    }

    @Test
    void evaluationBackwardForTheInputAlone() {
        // gamma and beta not tracked: the backward must not need their gradients
        SplittableRandom r = new SplittableRandom(30);
        float[] gamma = normal(r, 3, 1), beta = normal(r, 3, 1), rm = normal(r, 3, 1), rv = uniform(r, 3, 0.5, 2);
        GradCheck.check("batchNorm evaluation, x only", 30,
                t -> Ops.batchNorm(t[0], Tensor.of(gamma, 3), Tensor.of(beta, 3), Tensor.of(rm, 3), Tensor.of(rv, 3), false, 0.1f, EPS),
                in -> Ref64.batchNormEval(in[0], f64(gamma), f64(beta), f64(rm), f64(rv), 2, 3, 4, EPS),
                Input.diff("x", normal(r, 24, 1), 2, 3, 2, 2));
    }

    @Test
    void repeatedTrainingStepsConvergeToThePopulationStatistics() {
        // momentum 1 replaces the running statistics by the batch's: mean and unbiased variance of {1, 2, 3, 6}
        try (var s = Scope.open()) {
            Tensor rm = Tensor.zeros(1), rv = Tensor.full(Shape.of(1), 1f);
            Tensor x = Tensor.of(new float[]{1, 2, 3, 6}, 4, 1);
            Ops.batchNorm(x, Tensor.full(Shape.of(1), 1f), Tensor.zeros(1), rm, rv, true, 1f, EPS);
            assertEquals(3f, rm.item(), 1e-6);
            assertEquals(14f / 3, rv.item(), 1e-6);
            // momentum 0 leaves them
            Ops.batchNorm(Tensor.of(new float[]{10, 20, 30, 60}, 4, 1), Tensor.full(Shape.of(1), 1f), Tensor.zeros(1), rm, rv,
                    true, 0f, EPS);
            assertEquals(3f, rm.item(), 1e-6);
            assertEquals(14f / 3, rv.item(), 1e-6);
        }
    }
}
