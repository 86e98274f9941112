package dev.advinterp.engine;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Input gradients from a forward that a later full backward reuses (the adversarial training step). */
class TapeGradientsTest {

    private static final int[] Y = {1, 4};

    private static Tensor net(Tensor x, Tensor w, Tensor b) {
        return Ops.linear(Ops.flatten(Ops.relu(Ops.conv2d(x, w, null, 1, 1))), b, null);
    }

    /** The input, the convolution's weights and the linear layer's, in the caller's scope. */
    private static Tensor[] inputAndWeights() {
        return new Tensor[]{Tensor.rand(1, 0f, 1f, 2, 3, 5, 5), Tensor.randn(2, 0.3f, 4, 3, 3, 3).requiresGrad(true),
                Tensor.randn(3, 0.1f, 6, 4 * 25).requiresGrad(true)};
    }

    @Test
    void inputGradientsThenFullBackwardMatchTwoSeparateTapes() {
        try (Scope s = Scope.open()) {
            Tensor[] xwb = inputAndWeights();
            Tensor x = xwb[0], w = xwb[1], b = xwb[2];

            float[] dxExpected, dwExpected;
            try (Tape t = Tape.start()) {
                t.watch(x);
                Gradients g = t.backward(Ops.softmaxCrossEntropy(net(x, w, b), Y));
                dxExpected = g.of(x).toArray();
                dwExpected = g.of(w).toArray();
            }
            try (Tape t = Tape.start()) {
                t.watch(x);
                Tensor loss = Ops.softmaxCrossEntropy(net(x, w, b), Y);
                Gradients onlyX = t.gradients(loss, x);
                assertArrayEquals(dxExpected, onlyX.of(x).toArray());
                assertFalse(onlyX.has(w), "no weight gradient is computed for an input target");
                Gradients all = t.backward(loss);
                assertArrayEquals(dwExpected, all.of(w).toArray(), "the record survives gradients()");
            }
        }
    }

    @Test
    void anUnwatchedInputGetsNoGradientAndTheWeightsTheSame() {
        try (Scope s = Scope.open()) {
            Tensor[] xwb = inputAndWeights();
            Tensor x = xwb[0], w = xwb[1], b = xwb[2];
            float[] dwExpected, dbExpected;
            try (Tape t = Tape.start()) {
                Gradients g = t.backward(Ops.softmaxCrossEntropy(net(x, w, b), Y));
                dwExpected = g.of(w).toArray();
                dbExpected = g.of(b).toArray();
            }
            try (Tape t = Tape.start()) {
                t.watch(x);
                assertTrue(t.watches(x));
                Tensor loss = Ops.softmaxCrossEntropy(net(x, w, b), Y);
                assertTrue(t.gradients(loss, x).has(x));
                t.unwatch(x);
                assertFalse(t.watches(x));
                Gradients all = t.backward(loss);
                assertFalse(all.has(x), "no gradient for the unwatched input");
                assertArrayEquals(dwExpected, all.of(w).toArray());
                assertArrayEquals(dbExpected, all.of(b).toArray());
                assertThrows(IllegalArgumentException.class, () -> t.unwatch(x), "unwatching twice");
            }
        }
    }

    @Test
    void targetsMustBeTracked() {
        try (Scope s = Scope.open(); Tape t = Tape.start()) {
            Tensor x = Tensor.rand(1, 0f, 1f, 2, 3);
            Tensor w = Tensor.randn(2, 1f, 4, 3).requiresGrad(true);
            Tensor loss = Ops.sum(Ops.linear(x, w, null));
            var e = assertThrows(IllegalArgumentException.class, () -> t.gradients(loss, x));
            assertTrue(e.getMessage().contains("[2, 3]"), e.getMessage());
        }
    }
}
