package dev.advinterp.engine;

import dev.advinterp.engine.GradCheck.Input;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.SplittableRandom;
import java.util.stream.Stream;

import static dev.advinterp.engine.TestData.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Backward of the dense, elementwise and shape ops against central differences of {@link Ref64}
 * (tolerances in {@link GradCheck}), and the tape's bookkeeping around them.
 */
class OpsGradientTest {

    record MatmulCase(int m, int k, int n, long seed) {
    }

    static Stream<MatmulCase> matmulCases() {
        return Cases.draw(101, 20, d -> new MatmulCase(d.between(1, 24), d.between(1, 24), d.between(1, 24), d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("matmulCases")
    void matmul(MatmulCase c) {
        int m = c.m(), k = c.k(), n = c.n();
        long seed = c.seed();
        SplittableRandom r = new SplittableRandom(seed);
        GradCheck.check("matmul " + m + "x" + k + "x" + n, seed,
                t -> Ops.matmul(t[0], t[1]),
                in -> Ref64.matmul(in[0], in[1], m, k, n),
                Input.diff("a", normal(r, m * k, 1), m, k), Input.diff("b", normal(r, k * n, 1), k, n));
    }

    record LinearCase(int n, int in, int out, long seed) {
    }

    static Stream<LinearCase> linearCases() {
        return Cases.draw(102, 20, d -> new LinearCase(d.between(1, 16), d.between(1, 24), d.between(1, 16), d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("linearCases")
    void linear(LinearCase c) {
        int n = c.n(), in = c.in(), out = c.out();
        long seed = c.seed();
        SplittableRandom r = new SplittableRandom(seed);
        GradCheck.check("linear", seed,
                t -> Ops.linear(t[0], t[1], t[2]),
                x -> Ref64.linear(x[0], x[1], x[2], n, in, out),
                Input.diff("x", normal(r, n * in, 1), n, in), Input.diff("weight", normal(r, out * in, 1), out, in),
                Input.diff("bias", normal(r, out, 1), out));
    }

    @Test
    void linearWithoutBias() {
        SplittableRandom r = new SplittableRandom(5);
        GradCheck.check("linear without bias", 5,
                t -> Ops.linear(t[0], t[1], null),
                x -> Ref64.linear(x[0], x[1], null, 3, 7, 4),
                Input.diff("x", normal(r, 21, 1), 3, 7), Input.diff("weight", normal(r, 28, 1), 4, 7));
    }

    record RowNormsCase(int rows, int cols, long seed) {
    }

    static Stream<RowNormsCase> rowNormsCases() {
        return Cases.draw(110, 15, d -> new RowNormsCase(d.between(1, 5), d.between(1, 60), d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rowNormsCases")
    void rowNorms(RowNormsCase c) {
        int rows = c.rows(), cols = c.cols();
        long seed = c.seed();
        // values away from 0 keep every row's norm away from its kink at 0
        float[] x = awayFromZero(new SplittableRandom(seed), rows * cols, 0.2, 2);
        GradCheck.check("rowNorms", seed, t -> Ops.rowNorms(t[0]), in -> Ref64.rowNorms(in[0], rows), Input.diff("x", x, rows, cols));
    }

    @Test
    void rowNormsOfAZeroRowHaveAZeroGradient() {
        try (var s = Scope.open(); var tape = Tape.start()) {
            Tensor x = tape.watch(Tensor.of(new float[]{0, 0, 3, 4}, 2, 2));
            Tensor dx = tape.backward(Ops.sum(Ops.rowNorms(x))).of(x);
            assertArrayEquals(new float[]{0, 0, 0.6f, 0.8f}, dx.toArray());
        }
    }

    record ReluCase(int rows, int cols, long seed) {
    }

    static Stream<ReluCase> reluCases() {
        return Cases.draw(103, 20, d -> new ReluCase(d.between(1, 6), d.between(1, 200), d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reluCases")
    void relu(ReluCase c) {
        int rows = c.rows(), cols = c.cols();
        long seed = c.seed();
        // |x| >= 0.05: a nudge of at most H never crosses the kink
        float[] x = awayFromZero(new SplittableRandom(seed), rows * cols, 0.05, 2);
        GradCheck.check("relu", seed, t -> Ops.relu(t[0]), in -> Ref64.relu(in[0]), Input.diff("x", x, rows, cols));
    }

    record DropoutCase(int n, float p, long seed) {
    }

    static Stream<DropoutCase> dropoutCases() {
        return Cases.draw(104, 15, d -> new DropoutCase(d.between(1, 500), d.between(0.05f, 0.8f), d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dropoutCases")
    void dropoutInTraining(DropoutCase c) {
        int n = c.n();
        float p = c.p();
        long seed = c.seed();
        float[] x = normal(new SplittableRandom(seed), n, 1);
        GradCheck.check("dropout", seed, t -> Ops.dropout(t[0], p, seed, true), in -> Ref64.dropout(in[0], p, seed),
                Input.diff("x", x, n));
    }

    @Test
    void dropoutInEvaluationPassesTheGradientThrough() {
        float[] x = normal(new SplittableRandom(6), 24, 1);
        GradCheck.check("dropout (evaluation)", 6, t -> Ops.dropout(t[0], 0.5f, 1, false), in -> in[0],
                Input.diff("x", x, 4, 6));
    }

    record AddSubScaleCase(int rows, int cols, float factor, long seed) {
    }

    static Stream<AddSubScaleCase> addSubScaleCases() {
        return Cases.draw(105, 15, d -> new AddSubScaleCase(d.between(1, 5), d.between(1, 100), d.between(-3f, 3f), d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("addSubScaleCases")
    void addSubScale(AddSubScaleCase c) {
        int rows = c.rows(), cols = c.cols();
        float factor = c.factor();
        long seed = c.seed();
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = normal(r, rows * cols, 1), b = normal(r, rows * cols, 1);
        GradCheck.check("add", seed, t -> Ops.add(t[0], t[1]), in -> Ref64.axpby(1, in[0], 1, in[1]),
                Input.diff("a", a, rows, cols), Input.diff("b", b, rows, cols));
        GradCheck.check("sub", seed, t -> Ops.sub(t[0], t[1]), in -> Ref64.axpby(1, in[0], -1, in[1]),
                Input.diff("a", a, rows, cols), Input.diff("b", b, rows, cols));
        GradCheck.check("scale", seed, t -> Ops.scale(t[0], factor), in -> Ref64.axpby(factor, in[0], 0, in[0]),
                Input.diff("x", a, rows, cols));
    }

    record SumCase(int a, int b, int c, long seed) {
    }

    static Stream<SumCase> sumCases() {
        return Cases.draw(106, 15, d -> new SumCase(d.between(1, 3), d.between(1, 4), d.between(1, 50), d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sumCases")
    void sum(SumCase sc) {
        int a = sc.a(), b = sc.b(), c = sc.c();
        long seed = sc.seed();
        float[] x = normal(new SplittableRandom(seed), a * b * c, 1);
        GradCheck.check("sum", seed, t -> Ops.sum(t[0]), in -> new double[]{Ref64.sum(in[0])}, Input.diff("x", x, a, b, c));
    }

    @Test
    void reshapeAndFlattenCarryTheGradientBackToTheInputShape() {
        float[] x = normal(new SplittableRandom(7), 2 * 3 * 4 * 2, 1);
        // the projection is applied in the reshaped layout, which is the same flat order
        GradCheck.check("reshape", 7, t -> Ops.reshape(t[0], 4, -1), in -> in[0], Input.diff("x", x, 2, 3, 4, 2));
        GradCheck.check("flatten", 7, t -> Ops.flatten(t[0]), in -> in[0], Input.diff("x", x, 2, 3, 4, 2));
    }

    record ChainCase(int n, int c, int hw, int out, long seed) {
    }

    static Stream<ChainCase> chainCases() {
        return Cases.draw(107, 15, d -> new ChainCase(d.between(1, 6), d.between(1, 4), d.between(1, 5), d.between(1, 8), d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("chainCases")
    void aChainOfOpsThroughReshape(ChainCase cc) {
        int n = cc.n(), c = cc.c(), hw = cc.hw(), out = cc.out();
        long seed = cc.seed();
        SplittableRandom r = new SplittableRandom(seed);
        int in = c * hw;
        // relu(flatten(x)·wᵀ + b) scaled: the gradient passes four recorded ops and a view
        GradCheck.check("chain", seed,
                t -> Ops.scale(Ops.relu(Ops.linear(Ops.flatten(t[0]), t[1], t[2])), 0.5f),
                x -> {
                    double[] y = Ref64.relu(Ref64.linear(x[0], x[1], x[2], n, in, out));
                    for (int i = 0; i < y.length; i++) y[i] *= 0.5;
                    return y;
                },
                // pre-activations are the bias (|b| >= 3) plus x·w of standard deviation 0.2: never near ReLU's kink
                Input.diff("x", normal(r, n * in, 1), n, c, hw),
                Input.diff("weight", normal(r, out * in, 0.2 / Math.sqrt(in)), out, in),
                Input.diff("bias", awayFromZero(r, out, 3, 4), out));
    }

    @Test
    void aTensorUsedTwiceGetsTheSumOfBothGradients() {
        try (var s = Scope.open(); var tape = Tape.start()) {
            Tensor x = tape.watch(Tensor.of(new float[]{1, -2, 3}, 3));
            // d/dx Σ(3x + relu(x) + x) = 3 + [x > 0] + 1
            Tensor y = Ops.sum(Ops.add(Ops.add(Ops.scale(x, 3), Ops.relu(x)), x));
            assertArrayEquals(new float[]{5, 4, 5}, tape.backward(y).of(x).toArray());
        }
    }

    @Test
    void parametersGetGradientsWithoutBeingWatched() {
        try (var s = Scope.open(); var tape = Tape.start()) {
            Tensor w = Tensor.of(new float[]{1, 2, 3, 4}, 2, 2).requiresGrad(true);
            Tensor x = Tensor.of(new float[]{1, 1}, 1, 2);
            Gradients g = tape.backward(Ops.sum(Ops.linear(x, w, null)));
            assertArrayEquals(new float[]{1, 1, 1, 1}, g.of(w).toArray());
            assertFalse(g.has(x), "an input that is neither watched nor a parameter gets no gradient");
        }
    }

    @Test
    void nothingIsRecordedWithoutATapeOrATrackedInput() {
        try (var s = Scope.open()) {
            Tensor x = Tensor.of(new float[]{1, 2}, 2);
            try (var tape = Tape.start()) {
                Ops.relu(x);
                assertEquals(0, tape.size(), "no input is tracked");
                tape.watch(x);
                Ops.relu(Ops.relu(x));
                assertEquals(2, tape.size());
            }
        }
    }
}
