package dev.advinterp.engine;

import dev.advinterp.engine.memory.NativeMemory;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** {@link Ops#reluInPlace}: the values and gradients of {@link Ops#relu}, in x's memory, and the tape's version check. */
class ReluInPlaceTest {
    private static final int[] Y = {1, 4};

    /** conv → ReLU → linear, the ReLU in place or not. */
    private static Tensor net(Tensor x, Tensor w, Tensor b, boolean inPlace) {
        Tensor h = Ops.conv2d(x, w, null, 1, 1);
        return Ops.linear(Ops.flatten(inPlace ? Ops.reluInPlace(h) : Ops.relu(h)), b, null);
    }

    @Test
    void sameLossAndGradientsAsReluWithOneActivationLess() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.rand(1, -1f, 1f, 2, 3, 5, 5);
            Tensor w = Tensor.randn(2, 0.3f, 4, 3, 3, 3).requiresGrad(true);
            Tensor b = Tensor.randn(3, 0.1f, 6, 4 * 25).requiresGrad(true);
            float[][] expected = new float[3][];
            long[] allocations = new long[2];
            for (int pass = 0; pass < 2; pass++) {
                boolean inPlace = pass == 1;
                try (Scope step = Scope.open(); Tape t = Tape.start()) {
                    t.watch(x);
                    long before = NativeMemory.allocations();
                    Tensor loss = Ops.softmaxCrossEntropy(net(x, w, b, inPlace), Y);
                    allocations[pass] = NativeMemory.allocations() - before;
                    Gradients g = t.backward(loss);
                    float[][] got = {g.of(x).toArray(), g.of(w).toArray(), g.of(b).toArray()};
                    if (!inPlace) {
                        expected = got;
                    } else {
                        for (int i = 0; i < 3; i++) assertArrayEquals(expected[i], got[i], "gradient " + i);
                    }
                }
            }
            assertEquals(allocations[0] - 1, allocations[1], "the in-place ReLU allocates no output");
        }
    }

    @Test
    void theInputHoldsTheResult() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.of(new float[]{-2f, 0f, 3f, -0.5f}, 4);
            Tensor y = Ops.reluInPlace(x);
            assertArrayEquals(new float[]{0f, 0f, 3f, 0f}, y.toArray());
            assertArrayEquals(new float[]{0f, 0f, 3f, 0f}, x.toArray());
            assertSame(x.storage(), y.storage());
            y.close();
            assertFalse(x.isClosed(), "x keeps the storage after its view closes");
        }
    }

    @Test
    void aBackwardWhoseSavedInputWasOverwrittenIsRefusedByName() {
        try (Scope s = Scope.open(); Tape t = Tape.start()) {
            Tensor w = Tensor.randn(2, 0.3f, 4, 3, 3, 3).requiresGrad(true);
            Tensor h = Ops.conv2d(Tensor.rand(1, -1f, 1f, 2, 3, 6, 6), w, null, 1, 1);
            Tensor pooled = Ops.maxPool2d(h, 2, 2, 0);   // saves h for its backward
            Tensor r = Ops.reluInPlace(h);              // then h is overwritten
            Tensor loss = Ops.add(Ops.sum(pooled), Ops.sum(r));
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.backward(loss));
            assertTrue(e.getMessage().contains("maxPool2d") && e.getMessage().contains("overwritten in place"), e.getMessage());
        }
    }

    @Test
    void anOutputItsBackwardReadsIsCheckedToo() {
        try (Scope s = Scope.open(); Tape t = Tape.start()) {
            Tensor x = Tensor.rand(1, -1f, 1f, 8).requiresGrad(true);
            Tensor y = Ops.relu(Ops.scale(x, 2f));      // relu's backward reads y
            Tensor z = Ops.reluInPlace(y);              // ... which is overwritten (with the same values, still refused)
            Tensor loss = Ops.sum(z);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.backward(loss));
            assertTrue(e.getMessage().contains("backward of relu: its output"), e.getMessage());
        }
    }

    @Test
    void aParameterOrWatchedInputIsNotOverwritten() {
        try (Scope s = Scope.open(); Tape t = Tape.start()) {
            Tensor p = Tensor.rand(1, -1f, 1f, 8).requiresGrad(true);
            Tensor x = t.watch(Tensor.rand(2, -1f, 1f, 8));
            float[] before = x.toArray();
            assertThrows(IllegalArgumentException.class, () -> Ops.reluInPlace(p));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.reluInPlace(x));
            assertTrue(e.getMessage().contains("watched"), e.getMessage());
            assertArrayEquals(before, x.toArray());
        }
    }
}
