package dev.advinterp.engine;

import dev.advinterp.engine.GradCheck.Input;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.FloatRange;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.advinterp.engine.TestData.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Backward of the dense, elementwise and shape ops against central differences of {@link Ref64}
 * (tolerances in {@link GradCheck}), and the tape's bookkeeping around them.
 */
class OpsGradientTest {

    @Property(tries = 20)
    void matmul(@ForAll @IntRange(min = 1, max = 24) int m, @ForAll @IntRange(min = 1, max = 24) int k,
                @ForAll @IntRange(min = 1, max = 24) int n, @ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        GradCheck.check("matmul " + m + "x" + k + "x" + n, seed,
                t -> Ops.matmul(t[0], t[1]),
                in -> Ref64.matmul(in[0], in[1], m, k, n),
                Input.diff("a", normal(r, m * k, 1), m, k), Input.diff("b", normal(r, k * n, 1), k, n));
    }

    @Property(tries = 20)
    void linear(@ForAll @IntRange(min = 1, max = 16) int n, @ForAll @IntRange(min = 1, max = 24) int in,
                @ForAll @IntRange(min = 1, max = 16) int out, @ForAll long seed) {
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

    @Property(tries = 20)
    void relu(@ForAll @IntRange(min = 1, max = 6) int rows, @ForAll @IntRange(min = 1, max = 200) int cols, @ForAll long seed) {
        // |x| >= 0.05: a nudge of at most H never crosses the kink
        float[] x = awayFromZero(new SplittableRandom(seed), rows * cols, 0.05, 2);
        GradCheck.check("relu", seed, t -> Ops.relu(t[0]), in -> Ref64.relu(in[0]), Input.diff("x", x, rows, cols));
    }

    @Property(tries = 15)
    void dropoutInTraining(@ForAll @IntRange(min = 1, max = 500) int n, @ForAll @FloatRange(min = 0.05f, max = 0.8f) float p,
                           @ForAll long seed) {
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

    @Property(tries = 15)
    void addSubScale(@ForAll @IntRange(min = 1, max = 5) int rows, @ForAll @IntRange(min = 1, max = 100) int cols,
                     @ForAll @FloatRange(min = -3, max = 3) float factor, @ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = normal(r, rows * cols, 1), b = normal(r, rows * cols, 1);
        GradCheck.check("add", seed, t -> Ops.add(t[0], t[1]), in -> Ref64.axpby(1, in[0], 1, in[1]),
                Input.diff("a", a, rows, cols), Input.diff("b", b, rows, cols));
        GradCheck.check("sub", seed, t -> Ops.sub(t[0], t[1]), in -> Ref64.axpby(1, in[0], -1, in[1]),
                Input.diff("a", a, rows, cols), Input.diff("b", b, rows, cols));
        GradCheck.check("scale", seed, t -> Ops.scale(t[0], factor), in -> Ref64.axpby(factor, in[0], 0, in[0]),
                Input.diff("x", a, rows, cols));
    }

    @Property(tries = 15)
    void sum(@ForAll @IntRange(min = 1, max = 3) int a, @ForAll @IntRange(min = 1, max = 4) int b,
             @ForAll @IntRange(min = 1, max = 50) int c, @ForAll long seed) {
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

    @Property(tries = 15)
    void aChainOfOpsThroughReshape(@ForAll @IntRange(min = 1, max = 6) int n, @ForAll @IntRange(min = 1, max = 4) int c,
                                   @ForAll @IntRange(min = 1, max = 5) int hw, @ForAll @IntRange(min = 1, max = 8) int out,
                                   @ForAll long seed) {
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
