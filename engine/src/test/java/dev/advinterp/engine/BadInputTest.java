package dev.advinterp.engine;

import dev.advinterp.engine.backend.Backend;
import dev.advinterp.engine.backend.Backends;
import dev.advinterp.engine.backend.ConvGeometry;
import dev.advinterp.engine.backend.PoolGeometry;
import org.junit.jupiter.api.Test;

import static dev.advinterp.engine.TestData.assertThrowsNaming;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Every bad argument is an exception of the documented type whose message names the op and the
 * shapes (or values) at fault, and nothing reaches native code unchecked: the native GEMM, called
 * directly and through convolution, is fed sizes that would read or write outside the tensors.
 */
class BadInputTest {
    private static final Backend CPU = Backends.cpu();

    private static Tensor t(int... dims) {
        return Tensor.zeros(dims);
    }

    // ---------------------------------------------------------------- shapes and factories

    @Test
    void nonPositiveAndEmptyShapes() {
        assertThrowsNaming(IllegalArgumentException.class, () -> Shape.of(0), "shape", "[0]", "non-positive");
        assertThrowsNaming(IllegalArgumentException.class, () -> Shape.of(3, -1), "[3, -1]");
        assertThrowsNaming(IllegalArgumentException.class, () -> Shape.of(), "at least one dimension");
        try (var s = Scope.open()) {
            assertThrowsNaming(IllegalArgumentException.class, () -> Tensor.zeros(2, 0), "[2, 0]");
        }
    }

    @Test
    void shapesWhoseSizeOverflows() {
        // more than 2^63 elements
        assertThrowsNaming(IllegalArgumentException.class, () -> Shape.of(1 << 20, 1 << 20, 1 << 20, 1 << 20),
                "[1048576, 1048576, 1048576, 1048576]");
        try (var s = Scope.open()) {
            // 5·429509837·2147418113 = 2^62 + 1 elements: 4 bytes each wraps around to a 4-byte allocation
            assertThrowsNaming(IllegalArgumentException.class, () -> Tensor.zeros(5, 429509837, 2147418113),
                    "full", "[5, 429509837, 2147418113]");
            assertThrowsNaming(IllegalArgumentException.class,
                    () -> Tensor.empty(CPU, Shape.of(5, 429509837, 2147418113), "probe"), "probe", "[5, 429509837, 2147418113]");
            // 2^32 values do not fit in a Java array
            assertThrowsNaming(IllegalArgumentException.class, () -> Tensor.randn(1, 1f, 1 << 16, 1 << 16), "randn", "[65536, 65536]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Tensor.rand(1, 0f, 1f, 1 << 16, 1 << 16), "rand", "[65536, 65536]");
        }
    }

    @Test
    void tensorOfWithTheWrongNumberOfValues() {
        try (var s = Scope.open()) {
            assertThrowsNaming(IllegalArgumentException.class, () -> Tensor.of(new float[5], 2, 3), "Tensor.of", "5 values", "[2, 3]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Tensor.of(new float[7], 2, 3), "7 values", "[2, 3]");
        }
    }

    @Test
    void elementAccessOutOfRange() {
        try (var s = Scope.open()) {
            Tensor x = t(2, 3);
            assertThrowsNaming(IndexOutOfBoundsException.class, () -> x.get(6), "index 6", "[2, 3]");
            assertThrowsNaming(IndexOutOfBoundsException.class, () -> x.get(-1), "index -1", "[2, 3]");
            assertThrowsNaming(IllegalStateException.class, x::item, "item()", "[2, 3]");
            assertThrowsNaming(IndexOutOfBoundsException.class, () -> x.dim(2), "dimension 2", "[2, 3]");
            assertThrowsNaming(IllegalArgumentException.class, () -> x.copyFrom(t(7)), "copyFrom", "[7]", "[2, 3]");
        }
    }

    // ---------------------------------------------------------------- dense

    @Test
    void matmulAndLinearShapes() {
        try (var s = Scope.open()) {
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.matmul(t(2, 3), t(4, 5)), "matmul", "[2, 3]", "[4, 5]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.matmul(t(2, 3, 4), t(4, 5)), "matmul", "rank 2", "[2, 3, 4]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.matmul(t(2, 3), t(3)), "matmul", "rank 2", "[3]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.linear(t(2, 3), t(4, 5), null), "linear", "[2, 3]", "[4, 5]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.linear(t(2, 5), t(4, 5), t(3)), "linear", "bias [3]", "[4, 5]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.linear(t(6), t(4, 6), null), "linear", "rank 2", "[6]");
        }
    }

    // ---------------------------------------------------------------- convolution and pooling

    @Test
    void conv2dArguments() {
        try (var s = Scope.open()) {
            Tensor x = t(1, 3, 8, 8), w = t(4, 3, 3, 3);
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.conv2d(x, t(4, 2, 3, 3), null, 1, 0),
                    "conv2d", "[1, 3, 8, 8]", "[4, 2, 3, 3]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.conv2d(t(3, 8, 8), w, null, 1, 0), "conv2d", "rank 4", "[3, 8, 8]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.conv2d(x, w, null, 0, 0), "conv2d", "stride", "[1, 3, 8, 8]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.conv2d(x, w, null, 1, 2, -1, 0),
                    "conv2d", "padding", "[1, 3, 8, 8]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.conv2d(t(1, 3, 2, 2), w, null, 1, 0),
                    "conv2d", "larger than the padded input", "[1, 3, 2, 2]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.conv2d(x, w, t(3), 1, 1), "conv2d", "bias [3]", "[4]");
        }
    }

    @Test
    void conv2dWhoseOutputPlaneOverflowsAnInt() {
        try (var s = Scope.open()) {
            // padding 2^15 on a 1×1 input: a 65537×65537 output plane, past the kernels' int indexing
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.conv2d(t(1, 1, 1, 1), t(1, 1, 1, 1), null, 1, 1 << 15),
                    "conv2d", "[1, 1, 1, 1]", "32768");
            // 1 + 2·padding overflows an int: it must not wrap to a negative size and slip through
            int pad = Integer.MAX_VALUE / 2 + 1;
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.conv2d(t(1, 1, 1, 1), t(1, 1, 1, 1), null, 1, pad),
                    "conv2d", "[1, 1, 1, 1]");
        }
    }

    @Test
    void poolingArguments() {
        try (var s = Scope.open()) {
            Tensor x = t(1, 1, 4, 4);
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.maxPool2d(t(4, 4), 2, 2, 0), "maxPool2d", "rank 4", "[4, 4]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.maxPool2d(x, 0, 1, 0), "maxPool2d", "kernel", "[1, 1, 4, 4]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.avgPool2d(x, 2, 0, 0), "avgPool2d", "stride", "[1, 1, 4, 4]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.maxPool2d(x, 3, 1, 2), "maxPool2d", "padding 2", "[1, 1, 4, 4]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.avgPool2d(x, 2, 1, -1), "avgPool2d", "padding -1", "[1, 1, 4, 4]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.maxPool2d(t(1, 1, 2, 2), 3, 1, 0),
                    "maxPool2d", "larger than the padded input", "[1, 1, 2, 2]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.adaptiveAvgPool2d(x, 0, 1),
                    "adaptiveAvgPool2d", "output height", "[1, 1, 4, 4]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.adaptiveAvgPool2d(t(4, 4), 1, 1),
                    "adaptiveAvgPool2d", "rank 4", "[4, 4]");
        }
    }

    // ---------------------------------------------------------------- batch norm, activations, elementwise, shapes

    @Test
    void batchNormArguments() {
        try (var s = Scope.open()) {
            Tensor c3 = t(3), v3 = Tensor.full(Shape.of(3), 1f);
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.batchNorm(t(2, 3, 4), c3, c3, c3, v3, true, 0.1f, 1e-5f),
                    "batchNorm", "[2, 3, 4]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.batchNorm(t(2, 3, 2, 2), t(4), c3, c3, v3, true, 0.1f, 1e-5f),
                    "batchNorm", "[4]", "[2, 3, 2, 2]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.batchNorm(t(2, 3, 2, 2), c3, c3, c3, v3, true, 0.1f, 0f),
                    "batchNorm", "eps", "[2, 3, 2, 2]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.batchNorm(t(1, 3), c3, c3, c3, v3, true, 0.1f, 1e-5f),
                    "batchNorm", "more than one value per channel", "[1, 3]");
        }
    }

    @Test
    void dropoutProbability() {
        try (var s = Scope.open()) {
            Tensor x = t(2, 3);
            for (float p : new float[]{1f, -0.1f, Float.NaN}) {
                assertThrowsNaming(IllegalArgumentException.class, () -> Ops.dropout(x, p, 1, true), "dropout", "p must be", "[2, 3]");
            }
        }
    }

    @Test
    void elementwiseShapes() {
        try (var s = Scope.open()) {
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.add(t(2, 3), t(3, 2)), "add", "[2, 3]", "[3, 2]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.sub(t(6), t(2, 3)), "sub", "[6]", "[2, 3]");
        }
    }

    @Test
    void reshapeArguments() {
        try (var s = Scope.open()) {
            Tensor x = t(6);
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.reshape(x, -1, -1), "reshape", "more than one -1", "[6]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.reshape(x, 0, 6), "reshape", "dimension 0", "[6]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.reshape(x, 4), "reshape", "[6]", "[4]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.reshape(x, 4, -1), "reshape", "[6]", "[4, -1]");
        }
    }

    @Test
    void selectionArguments() {
        try (var s = Scope.open()) {
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.argmax(t(5)), "argmax", "rank 2", "[5]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.topk(t(2, 5), 0), "topk", "k = 0", "[2, 5]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.topk(t(2, 5), 6), "topk", "k = 6", "[2, 5]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.topk(t(2, 5, 1), 1), "topk", "rank 2", "[2, 5, 1]");
        }
    }

    // ---------------------------------------------------------------- fused ops

    @Test
    void softmaxCrossEntropyLabels() {
        try (var s = Scope.open()) {
            Tensor logits = t(2, 5);
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.softmaxCrossEntropy(logits, new int[]{0, 5}),
                    "softmaxCrossEntropy", "label 5 at row 1", "[2, 5]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.softmaxCrossEntropy(logits, new int[]{-1, 0}),
                    "softmaxCrossEntropy", "label -1 at row 0", "[2, 5]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.softmaxCrossEntropy(logits, new int[]{0, 1, 2}),
                    "softmaxCrossEntropy", "3 labels", "[2, 5]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.softmaxCrossEntropy(t(10), new int[]{0}),
                    "softmaxCrossEntropy", "rank 2", "[10]");
        }
    }

    @Test
    void nonFiniteValuesReachingTheLosses() {
        try (var s = Scope.open(); var tape = Tape.start()) {
            for (float bad : new float[]{Float.NaN, Float.POSITIVE_INFINITY}) {
                Tensor logits = tape.watch(Tensor.of(new float[]{0, 1, bad, 2, 3, 4}, 2, 3));
                assertThrowsNaming(ArithmeticException.class, () -> Ops.softmaxCrossEntropy(logits, new int[]{0, 1}),
                        "softmaxCrossEntropy", "[2, 3]");
                Tensor a = Tensor.of(new float[]{0, 1, bad, 2, 3, 4}, 2, 3);
                assertThrowsNaming(ArithmeticException.class, () -> Ops.featureMatching(a, t(2, 3)), "featureMatching", "[2, 3]");
            }
            // finite inputs whose loss is finite in float64 but not in float32, the loss tensor's type
            Tensor far = Tensor.of(new float[]{3e38f, -3e38f}, 1, 2);
            assertThrowsNaming(ArithmeticException.class, () -> Ops.softmaxCrossEntropy(far, new int[]{1}),
                    "softmaxCrossEntropy", "[1, 2]");
            Tensor big = Tensor.full(Shape.of(4), 1e20f);
            assertThrowsNaming(ArithmeticException.class, () -> Ops.featureMatching(big, t(4)), "featureMatching", "[4]");
            assertEquals(0, tape.size(), "a failed loss records nothing");
        }
    }

    @Test
    void featureMatchingShapes() {
        try (var s = Scope.open()) {
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.featureMatching(t(2, 3), t(3, 2)),
                    "featureMatching", "[2, 3]", "[3, 2]");
        }
    }

    @Test
    void l2StepArguments() {
        try (var s = Scope.open()) {
            Tensor x = t(2, 3, 4, 4), g = t(2, 3, 4, 4), x0 = t(2, 3, 4, 4), m = t(2, 3, 4, 4), v = t(2, 3, 4, 4);
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.l2Step(x, t(2, 3, 4, 5), x0, 0.1f, 0.1f, 0f, 1f),
                    "l2Step", "[2, 3, 4, 4]", "[2, 3, 4, 5]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.l2Step(x, g, x0, 0.1f, -1f, 0f, 1f), "l2Step", "eps=-1.0");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.l2Step(x, g, x0, 0.1f, 0.1f, 1f, 0f), "l2Step", "[1.0, 0.0]");
            double[] w = {1, 1};
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.l2AdamStep(x, g, x0, m, t(2, 3), w, 1, 0.01f, 0.9, 0.999, 1e-8,
                    0f, 1f), "l2AdamStep", "[2, 3]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.l2AdamStep(x, g, x0, m, v, new double[3], 1, 0.01f, 0.9, 0.999,
                    1e-8, 0f, 1f), "l2AdamStep", "3 weights", "2 rows");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.l2AdamStep(x, g, x0, m, v, w, 0, 0.01f, 0.9, 0.999, 1e-8,
                    0f, 1f), "l2AdamStep", "step=0");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.l2AdamStep(x, g, x0, m, v, w, 1, 0.01f, 1.0, 0.999, 1e-8,
                    0f, 1f), "l2AdamStep", "betas 1.0");
        }
    }

    @Test
    void fgsmStepArguments() {
        try (var s = Scope.open()) {
            Tensor x = t(2, 3, 4, 4), g = t(2, 3, 4, 4), x0 = t(2, 3, 4, 4);
            float[] lo = {0}, hi = {1};
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.fgsmStep(x, t(2, 3, 4, 5), x0, 0.1f, 0.1f, lo, hi),
                    "fgsmStep", "[2, 3, 4, 4]", "[2, 3, 4, 5]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.fgsmStep(x, g, t(1, 3, 4, 4), 0.1f, 0.1f, lo, hi),
                    "fgsmStep", "[1, 3, 4, 4]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.fgsmStep(x, g, x0, 0.1f, 0.1f, new float[]{1}, new float[]{0}),
                    "fgsmStep", "lo[0] = 1.0", "hi[0] = 0.0", "[2, 3, 4, 4]");
            assertThrowsNaming(IllegalArgumentException.class,
                    () -> Ops.fgsmStep(x, g, x0, 0.1f, 0.1f, new float[]{0, Float.NaN, 0}, new float[]{1, 1, 1}),
                    "fgsmStep", "lo[1] = NaN", "[2, 3, 4, 4]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.fgsmStep(x, g, x0, 0.1f, 0.1f, new float[2], new float[2]),
                    "fgsmStep", "1 or 3 values", "[2, 3, 4, 4]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.fgsmStep(x, g, x0, 0.1f, 0.1f, new float[3], new float[1]),
                    "fgsmStep", "lo 3 and hi 1");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.fgsmStep(x, g, x0, 0.1f, -0.1f, lo, hi),
                    "fgsmStep", "eps", "[2, 3, 4, 4]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.fgsmStep(x, g, x0, 0.1f, Float.NaN, lo, hi),
                    "fgsmStep", "eps=NaN", "[2, 3, 4, 4]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.fgsmStep(x, g, x0, Float.POSITIVE_INFINITY, 0.1f, lo, hi),
                    "fgsmStep", "alpha=Infinity", "[2, 3, 4, 4]");
        }
    }

    @Test
    void sgdStepArguments() {
        try (var s = Scope.open()) {
            Tensor p = t(3, 4), g = t(3, 4), buf = t(3, 4);
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.sgdStep(p, t(4, 3), buf, 0.1f, 0.9f, 0f, false),
                    "sgdStep", "[3, 4]", "[4, 3]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.sgdStep(p, g, null, 0.1f, 0.9f, 0f, false),
                    "sgdStep", "needs a buffer", "[3, 4]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.sgdStep(p, g, t(12), 0.1f, 0.9f, 0f, false),
                    "sgdStep", "[3, 4]", "[12]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.sgdStep(p, g, buf, -0.1f, 0.9f, 0f, false),
                    "sgdStep", "-0.1", "[3, 4]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.sgdStep(p, g, buf, Float.NaN, 0.9f, 0f, false),
                    "sgdStep", "NaN", "[3, 4]");
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.sgdStep(p, g, null, 0.1f, 0f, 0f, true),
                    "sgdStep", "Nesterov", "[3, 4]");
        }
    }

    // ---------------------------------------------------------------- lifetimes

    @Test
    void useOfAClosedTensor() {
        try (var s = Scope.open()) {
            Tensor x = t(2, 3);
            x.close();
            assertTrue(x.isClosed());
            assertThrowsNaming(IllegalStateException.class, () -> Ops.relu(x), "relu", "[2, 3]", "closed");
            assertThrowsNaming(IllegalStateException.class, () -> Ops.rowNorms(x), "rowNorms", "[2, 3]", "closed");
            assertThrowsNaming(IllegalStateException.class, () -> Ops.matmul(x, t(3, 1)), "matmul", "[2, 3]", "closed");
            assertThrowsNaming(IllegalStateException.class, () -> Ops.reshape(x, 6), "reshape", "[2, 3]", "closed");
            assertThrowsNaming(IllegalStateException.class, x::toArray, "toArray", "[2, 3]");
            assertThrowsNaming(IllegalStateException.class, () -> x.get(0), "get", "[2, 3]");
            assertThrowsNaming(IllegalStateException.class, x::copy, "copy", "[2, 3]");
            assertThrowsNaming(IllegalStateException.class, x::segment, "access", "[2, 3]");
            assertThrowsNaming(IllegalStateException.class, () -> t(6).copyFrom(x), "copyFrom", "[2, 3]");
            assertThrowsNaming(IllegalStateException.class, () -> s.keep(x), "adopt", "[2, 3]");
            x.close(); // closing twice is allowed
        }
    }

    @Test
    void useOfATensorFromAClosedScope() {
        Tensor x;
        try (var s = Scope.open()) {
            x = Tensor.of(new float[]{1, 2, 3, 4}, 2, 2);
        }
        Tensor escaped = x;
        try (var s = Scope.open(); var tape = Tape.start()) {
            assertThrowsNaming(IllegalStateException.class, () -> Ops.scale(escaped, 2f), "scale", "[2, 2]", "closed");
            assertThrowsNaming(IllegalStateException.class, escaped::toArray, "toArray", "[2, 2]");
            assertThrowsNaming(IllegalStateException.class, escaped::item, "item()", "[2, 2]");
            assertThrowsNaming(IllegalStateException.class, () -> tape.watch(escaped), "watch", "[2, 2]");
        }
    }

    @Test
    void aReshapedViewOfAClosedTensor() {
        try (var s = Scope.open()) {
            Tensor x = t(2, 3);
            Tensor view = Ops.reshape(x, 3, 2);
            x.close();
            // the view keeps the storage alive and stays usable; a new view of the closed tensor is refused
            assertArrayEquals(new float[6], view.toArray());
            assertThrowsNaming(IllegalStateException.class, () -> Ops.reshape(x, 6), "reshape", "[2, 3]", "closed");
            view.close();
            assertThrowsNaming(IllegalStateException.class, () -> Ops.flatten(view), "reshape", "[3, 2]", "closed");
        }
    }

    @Test
    void backwardThroughATensorOfAClosedScope() {
        try (var outer = Scope.open(); var tape = Tape.start()) {
            Tensor x = tape.watch(Tensor.of(new float[]{1, -1, 2, -2}, 2, 2));
            Tensor loss;
            try (var inner = Scope.open()) {
                Tensor h = Ops.relu(x);         // saved by relu's backward, freed with the inner scope
                loss = inner.keep(Ops.sum(h));
            }
            assertThrowsNaming(IllegalStateException.class, () -> tape.backward(loss), "[2, 2]", "relu", "closed");
        }
    }

    @Test
    void backwardArguments() {
        try (var s = Scope.open()) {
            Tensor x = t(2, 3);
            try (var tape = Tape.start()) {
                Tensor y = Ops.relu(x);
                assertThrowsNaming(IllegalStateException.class, () -> tape.backward(Ops.sum(y)), "backward", "[1]", "not recorded");
                tape.watch(x);
                Tensor z = Ops.relu(x);
                assertThrowsNaming(IllegalArgumentException.class, () -> tape.backward(z), "backward", "[2, 3]", "seed");
                assertThrowsNaming(IllegalArgumentException.class, () -> tape.backward(z, t(3, 2)), "backward", "[3, 2]", "[2, 3]");
                Gradients g = tape.backward(Ops.sum(z));
                Tensor other = t(4);
                assertThrowsNaming(IllegalArgumentException.class, () -> g.of(other), "no gradient", "[4]");
                tape.close();
                assertThrowsNaming(IllegalStateException.class, () -> tape.backward(z, t(2, 3)), "closed tape", "[2, 3]");
            }
        }
    }

    @Test
    void scopesClosedOutOfOrder() {
        try (var outer = Scope.open()) {
            Scope inner = Scope.open();
            assertThrowsNaming(IllegalStateException.class, outer::close, "innermost first", "'scope'");
            assertFalse(outer.isClosed(), "a refused close leaves the scope open");
            assertSame(inner, Scope.current());
            inner.close();
            assertSame(outer, Scope.current());
        }
        assertThrowsNaming(IllegalStateException.class, () -> Scope.root().close(), "root scope");
    }

    // ---------------------------------------------------------------- native calls

    @Test
    void gemmThroughTheBackendOutsideItsTensors() {
        try (var s = Scope.open()) {
            Tensor a = Tensor.full(Shape.of(4, 4), 1f), b = Tensor.full(Shape.of(4, 4), 1f), c = t(4, 4);
            // in bounds: the whole 4×4 product, and a 2×2 block at an offset with leading dimension 4
            CPU.gemm(false, false, 4, 4, 4, 1f, a, 0, 4, b, 0, 4, 0f, c, 0, 4);
            assertEquals(4f, c.get(15));
            CPU.gemm(false, false, 2, 2, 2, 1f, a, 10, 4, b, 10, 4, 0f, c, 10, 4);
            assertEquals(2f, c.get(15));
            String[] shapes = {"gemm", "[4, 4]"};
            assertThrowsNaming(IllegalArgumentException.class, () -> CPU.gemm(false, false, 4, 4, 4, 1f, a, 1, 4, b, 0, 4, 0f, c, 0, 4),
                    shapes);
            assertThrowsNaming(IllegalArgumentException.class, () -> CPU.gemm(false, false, 4, 4, 4, 1f, a, 0, 4, b, 0, 4, 0f, c, 0, 5),
                    shapes);
            assertThrowsNaming(IllegalArgumentException.class, () -> CPU.gemm(false, false, 4, 4, 4, 1f, a, 0, 3, b, 0, 4, 0f, c, 0, 4),
                    shapes);
            assertThrowsNaming(IllegalArgumentException.class, () -> CPU.gemm(false, false, 4, 4, 4, 1f, a, -1, 4, b, 0, 4, 0f, c, 0, 4),
                    shapes);
            assertThrowsNaming(IllegalArgumentException.class, () -> CPU.gemm(true, false, 5, 4, 4, 1f, a, 0, 5, b, 0, 4, 0f, c, 0, 4),
                    shapes);
            assertThrowsNaming(IllegalArgumentException.class, () -> CPU.gemm(false, true, 4, 4, 5, 1f, a, 0, 5, b, 0, 5, 0f, c, 0, 4),
                    shapes);
            assertThrowsNaming(IllegalArgumentException.class, () -> CPU.gemm(false, false, 0, 4, 4, 1f, a, 0, 4, b, 0, 4, 0f, c, 0, 4),
                    "gemm", "m=0", "[4, 4]");
            // offsets near 2^62 and 2^63: offset·4 wraps around in a byte address, offset + extent in a long
            int big = Integer.MAX_VALUE;
            for (long off : new long[]{(1L << 62) + 1, Long.MAX_VALUE - 3, Long.MAX_VALUE}) {
                assertThrowsNaming(IllegalArgumentException.class, () -> CPU.gemm(false, false, big, 1, 1, 1f, a, off, big, b, 0, 1, 0f,
                        c, off, big), shapes);
            }
            assertEquals(2f, c.get(15), "a refused call writes nothing");
        }
    }

    @Test
    void convolutionThroughTheBackendWithAGeometryThatDoesNotMatchItsTensors() {
        try (var s = Scope.open()) {
            Tensor x = t(1, 1, 2, 2), w = t(1, 1, 1, 1), y = t(1, 1, 2, 2);
            // the input is 2×2 but the geometry says 3000×3000: the GEMM would read and write far outside
            ConvGeometry huge = new ConvGeometry(1, 1, 3000, 3000, 1, 1, 1, 1, 1, 0, 0);
            assertThrowsNaming(IllegalArgumentException.class, () -> CPU.conv2dForward(x, w, null, huge, y),
                    "conv2dForward", "[1, 1, 2, 2]", "h=3000");
            assertThrowsNaming(IllegalArgumentException.class, () -> CPU.conv2dBackwardData(y, w, huge, x),
                    "conv2dBackwardData", "[1, 1, 2, 2]", "h=3000");
            assertThrowsNaming(IllegalArgumentException.class, () -> CPU.conv2dBackwardFilter(x, y, huge, w, null),
                    "conv2dBackwardFilter", "[1, 1, 2, 2]", "h=3000");
            ConvGeometry ok = new ConvGeometry(1, 1, 2, 2, 1, 1, 1, 1, 1, 0, 0);
            assertThrowsNaming(IllegalArgumentException.class, () -> CPU.conv2dForward(x, t(2, 1, 1, 1), null, ok, y),
                    "conv2dForward", "weight [2, 1, 1, 1]");
            assertThrowsNaming(IllegalArgumentException.class, () -> CPU.conv2dForward(x, w, t(2), ok, y),
                    "conv2dForward", "bias [2]");
            assertThrowsNaming(IllegalArgumentException.class, () -> CPU.conv2dForward(x, w, null, ok, t(1, 1, 1, 1)),
                    "conv2dForward", "output [1, 1, 1, 1]");
            ConvGeometry zeroStride = new ConvGeometry(1, 1, 2, 2, 1, 1, 1, 0, 1, 0, 0);
            assertThrowsNaming(IllegalArgumentException.class, () -> CPU.conv2dForward(x, w, null, zeroStride, y),
                    "conv2dForward", "strideH=0");
            ConvGeometry kernelTooLarge = new ConvGeometry(1, 1, 2, 2, 1, 3, 3, 1, 1, 0, 0);
            assertThrowsNaming(IllegalArgumentException.class, () -> CPU.conv2dForward(x, t(1, 1, 3, 3), null, kernelTooLarge, y),
                    "conv2dForward", "kh=3");
        }
    }

    @Test
    void poolingThroughTheBackendStopsAtItsTensorsBounds() {
        // a geometry larger than the tensors is an exception, never a read or write outside them (Ops
        // derives the geometry from the shapes): oneDNN's pooling is not bounds-checked, so the
        // backend checks the sizes first; CpuPool, on bounds-checked segments, throws at the bounds
        boolean java = dev.advinterp.engine.backend.cpu.CpuBackend.instance().dnnlLoad().dnnl().isEmpty();
        try (var s = Scope.open()) {
            Tensor x = t(1, 1, 2, 2), y = t(1, 1, 1, 1);
            PoolGeometry g = new PoolGeometry(1, 1, 40, 40, 2, 2, 2, 2, 0, 0);
            if (java) {
                assertThrows(IndexOutOfBoundsException.class, () -> CPU.maxPool2dForward(x, g, y));
                assertThrows(IndexOutOfBoundsException.class, () -> CPU.avgPool2dBackward(x, y, y, g, x));
                assertThrows(IndexOutOfBoundsException.class, () -> CPU.maxPool2dBackward(x, y, y, g, x));
            } else {
                assertThrowsNaming(IllegalArgumentException.class, () -> CPU.maxPool2dForward(x, g, y), "maxPool2dForward", "input [1, 1, 2, 2]", "1600");
                assertThrowsNaming(IllegalArgumentException.class, () -> CPU.avgPool2dBackward(x, y, y, g, x), "avgPool2dBackward", "input [1, 1, 2, 2]");
                assertThrowsNaming(IllegalArgumentException.class, () -> CPU.maxPool2dBackward(x, y, y, g, x), "maxPool2dBackward", "input [1, 1, 2, 2]");
            }
        }
    }
}
