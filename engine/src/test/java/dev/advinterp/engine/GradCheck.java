package dev.advinterp.engine;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Checks an op's forward against its float64 reference and its backward against central finite
 * differences of that reference.
 *
 * <p>With a random projection r of the output, f(inputs) = Σ r·ref(inputs) is a scalar whose
 * gradient is what {@code tape.backward(y, r)} returns. Along a random direction v,
 * (f(x + hv) − f(x − hv)) / 2h must equal Σ v·grad; on small inputs every partial derivative is
 * also compared one by one. The differences are taken in float64 on the reference, so they are
 * accurate to about h²·f''' (and exact for ops that are linear in the input).
 */
final class GradCheck {
    /** Step of the central differences: float64 differences of O(1) values lose ~1e-13, truncation ~1e-6·f'''. */
    static final double H = 1e-3;
    /** Forward float32 vs float64: float32 sums of up to a few thousand terms err by ~1e-6 of the largest term. */
    static final double FORWARD_REL = 1e-4;
    /**
     * Gradients: 1e-3 of their scale. The float32 backward errs by ~1e-5 of it and the differences by
     * less; a wrong formula, index or scaling errs by far more.
     */
    static final double GRAD_REL = 1e-3;
    /** Inputs with at most this many elements also get every partial derivative checked. */
    static final int PER_ELEMENT_LIMIT = 400;

    private GradCheck() {
    }

    /** The engine side: the op applied to tensors (in the order of the inputs). */
    @FunctionalInterface
    interface EngineOp {
        Tensor apply(Tensor[] in);
    }

    /** The reference side: the op's output in float64 from the same inputs in float64. */
    @FunctionalInterface
    interface RefOp {
        double[] apply(double[][] in);
    }

    record Input(String name, float[] data, int[] dims, boolean differentiable) {
        static Input diff(String name, float[] data, int... dims) {
            return new Input(name, data, dims, true);
        }

        static Input constant(String name, float[] data, int... dims) {
            return new Input(name, data, dims, false);
        }
    }

    /** Forward and backward of one op on one set of inputs. */
    static void check(String what, long seed, EngineOp op, RefOp ref, Input... inputs) {
        SplittableRandom rnd = new SplittableRandom(seed);
        double[][] x64 = new double[inputs.length][];
        for (int i = 0; i < inputs.length; i++) x64[i] = TestData.f64(inputs[i].data());
        double[] yRef = ref.apply(x64);
        try (var scope = Scope.open(); var tape = Tape.start()) {
            Tensor[] ts = new Tensor[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                ts[i] = Tensor.of(inputs[i].data(), inputs[i].dims());
                if (inputs[i].differentiable()) tape.watch(ts[i]);
            }
            Tensor y = op.apply(ts);
            TestData.assertClose(what + " forward", yRef, y.toArray(), FORWARD_REL);

            float[] r = TestData.uniform(rnd, yRef.length, -1, 1);
            Gradients grads = tape.backward(y, Tensor.of(r, y.shape().dims()));
            double[] r64 = TestData.f64(r);
            for (int i = 0; i < inputs.length; i++) {
                if (!inputs[i].differentiable()) continue;
                Tensor g = grads.of(ts[i]);
                assertEquals(ts[i].shape(), g.shape(), what + ": gradient of " + inputs[i].name() + " has the input's shape");
                checkInput(what + ", d/d" + inputs[i].name(), ref, x64, i, r64, g.toArray(), rnd);
            }
        }
    }

    private static void checkInput(String what, RefOp ref, double[][] x64, int i, double[] r, float[] grad,
                                   SplittableRandom rnd) {
        int n = x64[i].length;
        double[] v = new double[n];
        for (int j = 0; j < n; j++) v[j] = rnd.nextDouble() * 2 - 1;
        double numeric = (projected(ref, x64, i, v, H, r) - projected(ref, x64, i, v, -H, r)) / (2 * H);
        double engine = 0, scale = 0;
        for (int j = 0; j < n; j++) {
            engine += v[j] * grad[j];
            scale += Math.abs(v[j] * grad[j]);
        }
        double tol = GRAD_REL * Math.max(scale, Math.abs(numeric)) + 1e-9;
        if (!(Math.abs(numeric - engine) <= tol)) {
            fail(what + ": directional derivative " + engine + " from the tape, " + numeric + " from finite differences"
                    + " (tolerance " + tol + ")");
        }
        if (n > PER_ELEMENT_LIMIT) return;
        double[] num = new double[n];
        double[] e = new double[n];
        for (int j = 0; j < n; j++) {
            Arrays.fill(e, 0);
            e[j] = 1;
            num[j] = (projected(ref, x64, i, e, H, r) - projected(ref, x64, i, e, -H, r)) / (2 * H);
        }
        double elTol = GRAD_REL * TestData.maxAbs(num) + 1e-9;
        for (int j = 0; j < n; j++) {
            if (!(Math.abs(grad[j] - num[j]) <= elTol)) {
                fail(what + ": element " + j + " of the gradient is " + grad[j] + ", finite differences give " + num[j]
                        + " (tolerance " + elTol + ")");
            }
        }
    }

    /** Σ r·ref(inputs with input i moved by t·v). */
    private static double projected(RefOp ref, double[][] x64, int i, double[] v, double t, double[] r) {
        double[][] in = x64.clone();
        in[i] = x64[i].clone();
        for (int j = 0; j < v.length; j++) in[i][j] += t * v[j];
        double[] y = ref.apply(in);
        double s = 0;
        for (int k = 0; k < y.length; k++) s += r[k] * y[k];
        return s;
    }
}
