package dev.advinterp.engine;

import dev.advinterp.engine.backend.Backend;
import dev.advinterp.engine.backend.ConvGeometry;
import dev.advinterp.engine.backend.PoolGeometry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.ToDoubleFunction;

import static dev.advinterp.engine.TestData.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every {@link Backend} primitive on the CUDA backend against the CPU backend, the reference, on
 * the same seeded inputs: outputs are first filled with NaN on both sides, so an element a kernel
 * fails to write is a mismatch. Sizes include ones that are not multiples of 4 (the vectorised
 * tails) and ones above 256 × 4096 elements (grid-stride loops that go round more than once).
 *
 * <p>Tolerances, relative to the largest magnitude of the CPU's output (float32 keeps 24 bits,
 * 6.0e-8 relative):
 * <ul>
 *   <li>{@link #EXACT}: ops that copy, select or compare (copy, fill, ReLU, max pooling forward,
 *       argmax, top-k, the FGSM step, whose only arithmetic is x ± α and a clip), and as
 *       {@link #KERNEL_EXACT} the project's kernels that kernels/README.md documents as doing the
 *       CPU's float operations in the CPU's order (bias, channel affine, dropout, axpby, scale,
 *       adaptive pooling, batch-norm inference backward's dx, feature matching's gradients, SGD):
 *       built without fused multiply-adds, IEEE float32 arithmetic gives the same bits;</li>
 *   <li>{@link #ELEMENTWISE} 1e-6: one or two roundings per element done by cuDNN, which may fuse
 *       them;</li>
 *   <li>{@link #REDUCTION} 1e-5: sums of up to a few thousand terms in another order (GEMM, bias
 *       and pooling sums, batch norm, the fused losses);</li>
 *   <li>{@link #CONV} 1e-4: convolutions, where cuDNN may pick an FFT or Winograd algorithm whose
 *       float32 rounding differs from im2col + GEMM (TF32 is off, so no 10-bit mantissas), and
 *       {@link #LONG_SUM} 1e-4 for a bias sum over more than 10⁵ terms.</li>
 * </ul>
 * Which backend is "the CUDA backend" is up to the concrete class: {@link CudaConformanceTest}
 * opens the GPU (on a machine without a usable one every test is skipped with the reason, never
 * passed); {@link CudaKernelsOnHostTest} and {@link CudaKernelsOnFakeDriverTest} open the same
 * backend class over stand-ins that run the kernels on the CPU. Each sets {@link #cpu},
 * {@link #gpu}, {@link #unavailable} and the library flags in its own {@code @BeforeAll}.
 */
abstract class CudaConformanceCases {
    static final double EXACT = 0, ELEMENTWISE = 1e-6, REDUCTION = 1e-5, CONV = 1e-4, LONG_SUM = 1e-4;
    /** The kernels that kernels/README.md says reproduce the CPU's formulas operation for operation. */
    static final double KERNEL_EXACT = EXACT;
    /** Above 256 threads × 4096 blocks: the elementwise kernels' grid-stride loops go round twice. */
    static final int LARGE = 256 * 4096 * 2 + 3;

    static Backend cpu, gpu;
    static Optional<String> unavailable;
    /** False where the backend under test runs without cuBLAS, or without cuDNN (the kernels on the host). */
    static boolean withCublas = true, withCudnn = true;

    /** Each test, not the class, is skipped, so that reports count the skipped tests and show the reason. */
    @BeforeEach
    void needsCuda() {
        assumeTrue(unavailable.isEmpty(), () -> "CUDA unavailable: " + unavailable.orElse(""));
    }

    /** For the tests of primitives that go through cuBLAS. */
    static void needsCublas() {
        assumeTrue(withCublas, "needs cuBLAS, which the backend under test was opened without");
    }

    /** For the tests of primitives that go through cuDNN. */
    static void needsCudnn() {
        assumeTrue(withCudnn, "needs cuDNN, which the backend under test was opened without");
    }

    /** One tensor on each backend, holding the same values. */
    record Pair(Tensor c, Tensor g) {
        Tensor on(Backend b) {
            return b == cpu ? c : g;
        }
    }

    static Pair in(float[] v, int... dims) {
        return new Pair(on(cpu, v, dims), on(gpu, v, dims));
    }

    private static Tensor on(Backend b, float[] v, int... dims) {
        Tensor t = Tensor.empty(b, Shape.of(dims), "conformance input");
        b.copyFromHost(v, 0, t);
        return t;
    }

    /** An output on each backend, filled with NaN so that an unwritten element shows. */
    static Pair out(int... dims) {
        Pair p = new Pair(Tensor.empty(cpu, Shape.of(dims), "conformance output"), Tensor.empty(gpu, Shape.of(dims), "conformance output"));
        cpu.fill(p.c(), Float.NaN);
        gpu.fill(p.g(), Float.NaN);
        return p;
    }

    static void both(Consumer<Backend> op) {
        op.accept(cpu);
        op.accept(gpu);
    }

    /** CUDA's values within {@code rel} of the largest CPU magnitude; NaN exactly where the CPU has NaN. */
    static void same(String what, Pair p, double rel) {
        same(what, p.c().toArray(), p.g().toArray(), rel);
    }

    static void same(String what, float[] ref, float[] got, double rel) {
        assertEquals(ref.length, got.length, what + ": number of elements");
        double max = 0;
        for (float v : ref) if (Float.isFinite(v)) max = Math.max(max, Math.abs(v));
        double tol = rel * max;
        for (int i = 0; i < ref.length; i++) {
            boolean refNaN = Float.isNaN(ref[i]), gotNaN = Float.isNaN(got[i]);
            if (refNaN || gotNaN) {
                if (refNaN != gotNaN) fail(what + ": element " + i + " is " + got[i] + " on CUDA and " + ref[i] + " on the CPU");
                continue;
            }
            if (rel == EXACT ? Float.floatToIntBits(ref[i]) != Float.floatToIntBits(got[i]) : !(Math.abs(got[i] - ref[i]) <= tol)) {
                fail(what + ": element " + i + " is " + got[i] + " on CUDA, " + ref[i] + " on the CPU (tolerance " + tol + ")");
            }
        }
    }

    static void sameScalar(String what, double ref, double got, double scale, double rel) {
        assertTrue(Math.abs(got - ref) <= rel * Math.max(scale, 1e-30),
                what + ": " + got + " on CUDA, " + ref + " on the CPU (tolerance " + rel * scale + ")");
    }

    // ------------------------------------------------------------------ memory

    @Test
    void transfersRoundTripAndCopyAndFill() {
        for (int n : new int[]{1, 3, 1000, LARGE}) {
            try (Scope s = Scope.open()) {
                float[] v = normal(new SplittableRandom(n), n, 1);
                Pair x = in(v, n);
                assertArrayEquals(v, x.g().toArray(), "host → device → host of " + n + " values");
                Pair y = out(n);
                both(b -> b.copy(x.on(b), y.on(b)));
                same("copy of " + n, y, EXACT);
                both(b -> b.fill(y.on(b), -2.5f));
                same("fill of " + n, y, EXACT);
            }
        }
    }

    @Test
    void kernelsRefuseTensorsOfAnotherDevice() {
        try (Scope s = Scope.open()) {
            Tensor host = Tensor.empty(cpu, Shape.of(4), "host");
            Tensor dev = Tensor.empty(gpu, Shape.of(4), "device");
            assertThrows(IllegalArgumentException.class, () -> gpu.reluForward(host, dev));
            assertThrows(IllegalArgumentException.class, () -> gpu.copy(dev, host));
        }
    }

    // ------------------------------------------------------------------ dense algebra

    @Test
    void gemmInEveryTransposeWithOffsetsAndBeta() {
        needsCublas();
        SplittableRandom r = new SplittableRandom(11);
        int[][] sizes = {{1, 1, 1}, {7, 5, 3}, {64, 33, 129}, {256, 300, 200}};
        for (int[] mnk : sizes) {
            int m = mnk[0], n = mnk[1], k = mnk[2];
            for (boolean ta : new boolean[]{false, true}) {
                for (boolean tb : new boolean[]{false, true}) {
                    try (Scope s = Scope.open()) {
                        int lda = (ta ? m : k) + 2, ldb = (tb ? k : n) + 1, ldc = n + 3;
                        int aRows = ta ? k : m, bRows = tb ? n : k;
                        long aOff = 5, bOff = 2, cOff = 7;
                        Pair a = in(normal(r, (int) (aOff + (long) aRows * lda), 1), (int) (aOff + (long) aRows * lda));
                        Pair b = in(normal(r, (int) (bOff + (long) bRows * ldb), 1), (int) (bOff + (long) bRows * ldb));
                        Pair c = in(normal(r, (int) (cOff + (long) m * ldc), 1), (int) (cOff + (long) m * ldc));
                        both(be -> be.gemm(ta, tb, m, n, k, 0.75f, a.on(be), aOff, lda, b.on(be), bOff, ldb, 0.5f, c.on(be), cOff, ldc));
                        same("gemm " + m + "×" + n + "×" + k + (ta ? " Aᵀ" : "") + (tb ? " Bᵀ" : ""), c, REDUCTION);
                    }
                }
            }
        }
    }

    @Test
    void biasAffineAndBiasSum() {
        SplittableRandom r = new SplittableRandom(12);
        int[][] shapes = {{1, 1, 1}, {3, 5, 7}, {8, 64, 49}, {2, 3, LARGE / 3}};
        for (int[] sh : shapes) {
            int outer = sh[0], ch = sh[1], inner = sh[2], n = outer * ch * inner;
            String at = " [" + outer + ", " + ch + ", " + inner + "]";
            try (Scope s = Scope.open()) {
                Pair x = in(normal(r, n, 1), n), bias = in(normal(r, ch, 1), ch), scale = in(normal(r, ch, 1), ch);
                Pair y = in(x.c().toArray(), n);
                both(b -> b.addBias(y.on(b), bias.on(b), outer, ch, inner));
                same("addBias" + at, y, KERNEL_EXACT);
                Pair z = out(n);
                both(b -> b.channelAffine(x.on(b), scale.on(b), bias.on(b), outer, ch, inner, z.on(b)));
                same("channelAffine" + at, z, KERNEL_EXACT);
                both(b -> b.channelAffine(x.on(b), scale.on(b), null, outer, ch, inner, z.on(b)));
                same("channelAffine without shift" + at, z, KERNEL_EXACT);
                Pair db = out(ch);
                both(b -> b.sumBias(x.on(b), outer, ch, inner, db.on(b)));
                same("sumBias" + at, db, (long) outer * inner > 100_000 ? LONG_SUM : REDUCTION);
            }
        }
    }

    // ------------------------------------------------------------------ convolution

    @Test
    void convolutionForwardAndBothBackwards() {
        needsCudnn();
        SplittableRandom r = new SplittableRandom(13);
        ConvGeometry[] geometries = {
                new ConvGeometry(1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0),
                new ConvGeometry(2, 3, 9, 7, 4, 3, 3, 1, 1, 1, 1),
                new ConvGeometry(3, 5, 11, 11, 6, 3, 3, 2, 2, 1, 1),
                new ConvGeometry(2, 3, 32, 32, 16, 7, 7, 2, 2, 3, 3),
                new ConvGeometry(4, 16, 14, 14, 32, 1, 1, 2, 2, 0, 0),
                new ConvGeometry(2, 8, 10, 6, 8, 5, 3, 1, 2, 2, 0),
        };
        for (ConvGeometry g : geometries) {
            for (boolean withBias : new boolean[]{true, false}) {
                try (Scope s = Scope.open()) {
                    int[] xs = {g.n(), g.cIn(), g.h(), g.w()}, ws = {g.cOut(), g.cIn(), g.kh(), g.kw()},
                            ys = {g.n(), g.cOut(), g.outH(), g.outW()};
                    Pair x = in(normal(r, numel(xs), 1), xs), w = in(normal(r, numel(ws), 0.3), ws);
                    Pair bias = withBias ? in(normal(r, g.cOut(), 1), g.cOut()) : null;
                    Pair y = out(ys);
                    both(b -> b.conv2dForward(x.on(b), w.on(b), bias == null ? null : bias.on(b), g, y.on(b)));
                    same("conv2dForward " + g + (withBias ? " with bias" : ""), y, CONV);
                    Pair dy = in(normal(r, numel(ys), 1), ys), dx = out(xs), dw = out(ws);
                    Pair db = withBias ? out(g.cOut()) : null;
                    both(b -> b.conv2dBackwardData(dy.on(b), w.on(b), g, dx.on(b)));
                    same("conv2dBackwardData " + g, dx, CONV);
                    both(b -> b.conv2dBackwardFilter(x.on(b), dy.on(b), g, dw.on(b), db == null ? null : db.on(b)));
                    same("conv2dBackwardFilter " + g, dw, CONV);
                    if (db != null) same("conv2dBackwardFilter bias " + g, db, REDUCTION);
                }
            }
        }
    }

    // ------------------------------------------------------------------ pooling

    @Test
    void maxAndAveragePooling() {
        needsCudnn();
        SplittableRandom r = new SplittableRandom(14);
        PoolGeometry[] geometries = {
                new PoolGeometry(1, 1, 2, 2, 2, 2, 2, 2, 0, 0),
                new PoolGeometry(2, 3, 9, 9, 3, 3, 2, 2, 1, 1),
                new PoolGeometry(8, 64, 112, 112, 3, 3, 2, 2, 1, 1),
                new PoolGeometry(2, 4, 7, 10, 2, 3, 1, 2, 0, 1),
        };
        for (PoolGeometry g : geometries) {
            try (Scope s = Scope.open()) {
                int[] xs = {g.n(), g.c(), g.h(), g.w()}, ys = {g.n(), g.c(), g.outH(), g.outW()};
                // distinct values: the first maximum of a window is the same element on both sides
                Pair x = in(spaced(r, numel(xs), 1e-3), xs), dy = in(normal(r, numel(ys), 1), ys);
                Pair y = out(ys), dx = out(xs);
                both(b -> b.maxPool2dForward(x.on(b), g, y.on(b)));
                same("maxPool2dForward " + g, y, EXACT);
                both(b -> b.maxPool2dBackward(x.on(b), y.on(b), dy.on(b), g, dx.on(b)));
                // overlapping windows sum dy in any order
                same("maxPool2dBackward " + g, dx, ELEMENTWISE * 4);
                both(b -> b.avgPool2dForward(x.on(b), g, y.on(b)));
                same("avgPool2dForward " + g, y, REDUCTION);
                both(b -> b.avgPool2dBackward(x.on(b), y.on(b), dy.on(b), g, dx.on(b)));
                same("avgPool2dBackward " + g, dx, REDUCTION);
            }
        }
    }

    @Test
    void adaptiveAveragePooling() {
        SplittableRandom r = new SplittableRandom(15);
        int[][] cases = {{1, 1, 1, 1, 1, 1}, {2, 3, 7, 7, 1, 1}, {2, 5, 13, 9, 6, 6}, {1, 2, 5, 5, 7, 7}, {64, 512, 7, 7, 1, 1}};
        for (int[] c : cases) {
            try (Scope s = Scope.open()) {
                int[] xs = {c[0], c[1], c[2], c[3]}, ys = {c[0], c[1], c[4], c[5]};
                Pair x = in(normal(r, numel(xs), 1), xs), dy = in(normal(r, numel(ys), 1), ys);
                Pair y = out(ys), dx = out(xs);
                both(b -> b.adaptiveAvgPool2dForward(x.on(b), y.on(b)));
                same("adaptiveAvgPool2dForward " + Arrays.toString(xs) + " → " + c[4] + "×" + c[5], y, KERNEL_EXACT);
                both(b -> b.adaptiveAvgPool2dBackward(dy.on(b), dx.on(b)));
                same("adaptiveAvgPool2dBackward " + Arrays.toString(xs) + " → " + c[4] + "×" + c[5], dx, KERNEL_EXACT);
            }
        }
    }

    // ------------------------------------------------------------------ batch normalisation

    @Test
    void batchNormTrainingAndInference() {
        needsCudnn();
        SplittableRandom r = new SplittableRandom(16);
        int[][] shapes = {{2, 1, 1, 1}, {4, 3, 5, 5}, {8, 64, 28, 28}, {16, 10, 1, 1}};
        for (int[] xs : shapes) {
            int c = xs[1], n = numel(xs);
            String at = " " + Arrays.toString(xs);
            try (Scope s = Scope.open()) {
                Pair x = in(perChannelSpread(r, xs[0], c, xs[2] * xs[3]), xs), dy = in(normal(r, n, 1), xs);
                Pair gamma = in(uniform(r, c, 0.5, 1.5), c), beta = in(normal(r, c, 1), c);
                Pair mean = in(normal(r, c, 0.1), c), var = in(uniform(r, c, 0.5, 2), c);
                Pair y = out(xs), saveMean = out(c), saveInvStd = out(c);
                both(b -> b.batchNormTrainForward(x.on(b), gamma.on(b), beta.on(b), mean.on(b), var.on(b), 0.1f, 1e-5f,
                        y.on(b), saveMean.on(b), saveInvStd.on(b)));
                same("batchNormTrainForward" + at, y, REDUCTION);
                same("batchNormTrainForward saved mean" + at, saveMean, REDUCTION);
                same("batchNormTrainForward saved 1/σ" + at, saveInvStd, REDUCTION);
                same("batchNormTrainForward running mean" + at, mean, REDUCTION);
                same("batchNormTrainForward running variance" + at, var, REDUCTION);
                Pair dx = out(xs), dg = out(c), db = out(c);
                both(b -> b.batchNormTrainBackward(x.on(b), dy.on(b), gamma.on(b), saveMean.on(b), saveInvStd.on(b), 1e-5f,
                        dx.on(b), dg.on(b), db.on(b)));
                same("batchNormTrainBackward dx" + at, dx, REDUCTION);
                same("batchNormTrainBackward dγ" + at, dg, REDUCTION);
                same("batchNormTrainBackward dβ" + at, db, REDUCTION);
                both(b -> b.batchNormInferenceForward(x.on(b), gamma.on(b), beta.on(b), mean.on(b), var.on(b), 1e-5f, y.on(b)));
                same("batchNormInferenceForward" + at, y, ELEMENTWISE * 4);
            }
        }
    }

    /** The inference backward runs on the project's kernels only (no cuDNN). */
    @Test
    void batchNormInferenceBackward() {
        SplittableRandom r = new SplittableRandom(18);
        int[][] shapes = {{2, 1, 1, 1}, {4, 3, 5, 5}, {8, 64, 28, 28}, {16, 10, 1, 1}, {3, 7, 1, 300}};
        for (int[] xs : shapes) {
            int c = xs[1], n = numel(xs);
            String at = " " + Arrays.toString(xs);
            try (Scope s = Scope.open()) {
                Pair x = in(perChannelSpread(r, xs[0], c, xs[2] * xs[3]), xs), dy = in(normal(r, n, 1), xs);
                Pair gamma = in(uniform(r, c, 0.5, 1.5), c);
                Pair mean = in(normal(r, c, 0.1), c), var = in(uniform(r, c, 0.5, 2), c);
                Pair dx = out(xs), dg = out(c), db = out(c);
                both(b -> b.batchNormInferenceBackward(x.on(b), dy.on(b), gamma.on(b), mean.on(b), var.on(b), 1e-5f,
                        dx.on(b), dg.on(b), db.on(b)));
                same("batchNormInferenceBackward dx" + at, dx, KERNEL_EXACT);
                same("batchNormInferenceBackward dγ" + at, dg, REDUCTION);
                same("batchNormInferenceBackward dβ" + at, db, REDUCTION);
                Pair dx2 = out(xs);
                both(b -> b.batchNormInferenceBackward(x.on(b), dy.on(b), gamma.on(b), mean.on(b), var.on(b), 1e-5f,
                        dx2.on(b), null, null));
                same("batchNormInferenceBackward dx without dγ, dβ" + at, dx2, KERNEL_EXACT);
            }
        }
    }

    // ------------------------------------------------------------------ activations and elementwise

    @Test
    void reluDropoutAndElementwise() {
        SplittableRandom r = new SplittableRandom(17);
        for (int n : new int[]{1, 5, 4096, LARGE}) {
            try (Scope s = Scope.open()) {
                float[] xv = normal(r, n, 1);
                xv[0] = 0f; // ReLU's kink: the gradient at 0 is 0 on both sides
                Pair x = in(xv, n), dy = in(normal(r, n, 1), n), y = out(n), dx = out(n);
                both(b -> b.reluForward(x.on(b), y.on(b)));
                same("reluForward of " + n, y, EXACT);
                both(b -> b.reluBackward(y.on(b), dy.on(b), dx.on(b)));
                same("reluBackward of " + n, dx, EXACT);
                for (float p : new float[]{0f, 0.5f, 0.9f}) {
                    both(b -> b.dropoutForward(x.on(b), p, 1234567L + n, y.on(b)));
                    same("dropoutForward p " + p + " of " + n, y, KERNEL_EXACT);
                    both(b -> b.dropoutBackward(dy.on(b), p, 1234567L + n, dx.on(b)));
                    same("dropoutBackward p " + p + " of " + n, dx, KERNEL_EXACT);
                }
                both(b -> b.axpby(0.3f, x.on(b), -1.7f, dy.on(b), y.on(b)));
                same("axpby of " + n, y, KERNEL_EXACT);
                Pair acc = in(xv, n);
                both(b -> b.axpby(1f, acc.on(b), 2f, dy.on(b), acc.on(b)));
                same("axpby in place of " + n, acc, KERNEL_EXACT);
                both(b -> b.scale(x.on(b), -0.37f, y.on(b)));
                same("scale of " + n, y, KERNEL_EXACT);
                double[] sums = {cpu.sum(x.c()), gpu.sum(x.g())};
                double abs = 0;
                for (float v : xv) abs += Math.abs(v);
                sameScalar("sum of " + n, sums[0], sums[1], abs, 1e-6);
            }
        }
    }

    /**
     * The row norms sum in another order (a tree per row): float64 sums rounded to float32 agree to
     * REDUCTION. The backward is the CPU's float arithmetic, given the same norms: bit for bit.
     */
    @Test
    void rowNormsAndTheirGradient() {
        SplittableRandom r = new SplittableRandom(21);
        int[][] shapes = {{1, 1}, {3, 10}, {4, 3 * 32 * 32}, {2, 257 * 3}, {5, 1000}};
        for (int[] sh : shapes) {
            int rows = sh[0], cols = sh[1], n = rows * cols;
            String at = " " + rows + "×" + cols;
            try (Scope s = Scope.open()) {
                float[] xv = normal(r, n, 1);
                if (rows > 1) java.util.Arrays.fill(xv, 0, cols, 0f); // a row of zeros: norm 0, gradient 0
                Pair x = in(xv, rows, cols), norms = out(rows);
                both(b -> b.rowNorms(x.on(b), rows, cols, norms.on(b)));
                same("rowNorms" + at, norms, REDUCTION);
                Pair given = in(norms.c().toArray(), rows), dy = in(normal(r, rows, 1), rows), dx = out(rows, cols);
                both(b -> b.rowNormsBackward(x.on(b), given.on(b), dy.on(b), rows, cols, dx.on(b)));
                same("rowNormsBackward" + at, dx, KERNEL_EXACT);
            }
        }
    }

    // ------------------------------------------------------------------ selection

    @Test
    void argmaxAndTopk() {
        SplittableRandom r = new SplittableRandom(18);
        int[][] shapes = {{1, 1}, {3, 10}, {64, 1000}, {5, 4097}};
        for (int[] sh : shapes) {
            int rows = sh[0], cols = sh[1];
            try (Scope s = Scope.open()) {
                float[] v = normal(r, rows * cols, 1);
                if (cols > 2) v[1] = v[2] = 50f; // a tie: the first maximum wins on both sides
                Pair x = in(v, rows, cols);
                int[][] arg = {new int[rows], new int[rows]};
                cpu.argmax(x.c(), rows, cols, arg[0]);
                gpu.argmax(x.g(), rows, cols, arg[1]);
                assertArrayEquals(arg[0], arg[1], "argmax of " + rows + "×" + cols);
                int k = Math.min(cols, 5);
                int[][] idx = {new int[rows * k], new int[rows * k]};
                float[][] val = {new float[rows * k], new float[rows * k]};
                cpu.topk(x.c(), rows, cols, k, idx[0], val[0]);
                gpu.topk(x.g(), rows, cols, k, idx[1], val[1]);
                assertArrayEquals(idx[0], idx[1], "topk indices of " + rows + "×" + cols);
                assertArrayEquals(val[0], val[1], "topk values of " + rows + "×" + cols);
            }
        }
    }

    // ------------------------------------------------------------------ fused primitives

    @Test
    void softmaxCrossEntropyWithAndWithoutGradient() {
        SplittableRandom r = new SplittableRandom(19);
        int[][] shapes = {{1, 1}, {4, 10}, {64, 1000}, {3, 5000}};
        for (int[] sh : shapes) {
            int rows = sh[0], cols = sh[1];
            try (Scope s = Scope.open()) {
                Pair logits = in(normal(r, rows * cols, 3), rows, cols), grad = out(rows, cols);
                int[] labels = labels(r, rows, cols);
                float[][] rowLoss = {new float[rows], new float[rows]};
                ToDoubleFunction<Backend> loss = b -> b.softmaxCrossEntropy(logits.on(b), rows, cols, labels, grad.on(b), 0.5f,
                        rowLoss[b == cpu ? 0 : 1]);
                double lc = loss.applyAsDouble(cpu), lg = loss.applyAsDouble(gpu);
                sameScalar("softmaxCrossEntropy loss " + rows + "×" + cols, lc, lg, Math.abs(lc) + 1, REDUCTION);
                same("softmaxCrossEntropy row losses " + rows + "×" + cols, rowLoss[0], rowLoss[1], REDUCTION);
                same("softmaxCrossEntropy gradient " + rows + "×" + cols, grad, REDUCTION);
                double nc = cpu.softmaxCrossEntropy(logits.c(), rows, cols, labels, null, 1f, null);
                double ng = gpu.softmaxCrossEntropy(logits.g(), rows, cols, labels, null, 1f, null);
                sameScalar("softmaxCrossEntropy loss without gradient " + rows + "×" + cols, nc, ng, Math.abs(nc) + 1, REDUCTION);
            }
        }
        try (Scope s = Scope.open()) {
            float[] v = {1f, Float.NaN, 2f, 3f};
            Pair logits = in(v, 2, 2);
            assertTrue(Double.isNaN(gpu.softmaxCrossEntropy(logits.g(), 2, 2, new int[]{0, 1}, null, 1f, null)),
                    "a NaN logit must give a NaN loss on CUDA, as on the CPU");
        }
    }

    @Test
    void featureMatchingLossAndGradients() {
        SplittableRandom r = new SplittableRandom(20);
        for (int n : new int[]{1, 7, 64 * 512 * 7 * 7, LARGE}) {
            try (Scope s = Scope.open()) {
                Pair a = in(normal(r, n, 1), n), b = in(normal(r, n, 1), n), ga = out(n), gb = out(n);
                double[] loss = {cpu.featureMatching(a.c(), b.c(), ga.c(), gb.c()), gpu.featureMatching(a.g(), b.g(), ga.g(), gb.g())};
                sameScalar("featureMatching loss of " + n, loss[0], loss[1], loss[0], REDUCTION);
                same("featureMatching gradient of a, " + n, ga, KERNEL_EXACT);
                same("featureMatching gradient of b, " + n, gb, KERNEL_EXACT);
                double[] lossOnly = {cpu.featureMatching(a.c(), b.c(), null, null), gpu.featureMatching(a.g(), b.g(), null, null)};
                sameScalar("featureMatching loss without gradients of " + n, lossOnly[0], lossOnly[1], lossOnly[0], REDUCTION);
            }
        }
    }

    @Test
    void fgsmStepPerChannelAndGlobalBounds() {
        SplittableRandom r = new SplittableRandom(21);
        int[][] shapes = {{1, 1, 1, 1}, {2, 3, 5, 7}, {64, 3, 224, 224}, {3, 3, 33, 33}};
        for (int[] xs : shapes) {
            int n = numel(xs), c = xs[1];
            for (boolean perChannel : new boolean[]{true, false}) {
                try (Scope s = Scope.open()) {
                    float[] x0 = uniform(r, n, 0, 1), g = normal(r, n, 1);
                    for (int i = 0; i < n; i += 7) g[i] = 0f; // sign(0) = 0: the pixel stays
                    Pair x = in(x0, xs), x0p = in(x0, xs), grad = in(g, xs);
                    float[] lo = perChannel ? new float[c] : new float[]{0f}, hi = perChannel ? new float[c] : new float[]{1f};
                    if (perChannel) {
                        for (int k = 0; k < c; k++) {
                            lo[k] = -0.1f * k;
                            hi[k] = 0.9f + 0.1f * k;
                        }
                    }
                    for (int step = 0; step < 3; step++) {
                        both(b -> b.fgsmStep(x.on(b), grad.on(b), x0p.on(b), 2f / 255, 4f / 255, lo.clone(), hi.clone()));
                    }
                    same("fgsmStep " + Arrays.toString(xs) + (perChannel ? " per-channel bounds" : " one bound"), x, EXACT);
                }
            }
        }
    }

    @Test
    void sgdUpdateInEveryVariant() {
        SplittableRandom r = new SplittableRandom(22);
        for (int n : new int[]{1, 9, 4096, LARGE}) {
            for (int variant = 0; variant < 4; variant++) {
                float momentum = variant == 0 ? 0f : 0.9f, dampening = variant == 2 ? 0.1f : 0f;
                boolean nesterov = variant == 3;
                try (Scope s = Scope.open()) {
                    Pair p = in(normal(r, n, 1), n), g = in(normal(r, n, 1), n);
                    Pair buf = momentum == 0f ? null : in(normal(r, n, 0.1), n);
                    for (int step = 0; step < 2; step++) {
                        both(b -> b.sgdUpdate(p.on(b), g.on(b), buf == null ? null : buf.on(b), 0.05f, momentum, dampening, 5e-4f, nesterov));
                    }
                    String what = "sgdUpdate of " + n + " (momentum " + momentum + ", dampening " + dampening + (nesterov ? ", Nesterov)" : ")");
                    same(what, p, KERNEL_EXACT);
                    if (buf != null) same(what + " momentum buffer", buf, KERNEL_EXACT);
                }
            }
        }
    }

    /**
     * The L2 attacks' steps: the norms are float64 sums in another order (a tree per row), so an
     * element may land one float32 rounding away from the CPU's: ELEMENTWISE. Rows of one image of
     * 3×32×32, of 150528 (224×224×3: a block loops over many elements), of 5 (fewer than a warp).
     */
    @Test
    void l2StepAndL2AdamStep() {
        SplittableRandom r = new SplittableRandom(23);
        int[][] shapes = {{4, 3 * 32 * 32}, {2, 3 * 224 * 224}, {3, 5}};
        for (int[] sh : shapes) {
            int rows = sh[0], cols = sh[1], n = rows * cols;
            String at = " " + rows + "×" + cols;
            try (Scope s = Scope.open()) {
                float[] x0v = uniform(r, n, 0, 1), gv = normal(r, n, 1);
                Arrays.fill(gv, 0, cols, 0f); // a zero gradient: the first image does not move
                Pair x = in(x0v, rows, cols), x0 = in(x0v, rows, cols), g = in(gv, rows, cols);
                for (int step = 0; step < 3; step++) {
                    both(b -> b.l2Step(x.on(b), g.on(b), x0.on(b), rows, cols, 0.2f, 0.3f, 0f, 1f));
                }
                same("l2Step" + at, x, ELEMENTWISE);
                Pair xa = in(x0v, rows, cols), m = in(new float[n], rows, cols), v = in(new float[n], rows, cols);
                double[] w = new double[rows];
                for (int i = 0; i < rows; i++) w[i] = 0.5 + i;
                for (int step = 1; step <= 3; step++) {
                    int t = step;
                    both(b -> b.l2AdamStep(xa.on(b), g.on(b), x0.on(b), m.on(b), v.on(b), rows, cols, w, 0.01f, 0.9, 0.999, 1e-8, t,
                            0f, 1f));
                }
                same("l2AdamStep" + at, xa, ELEMENTWISE);
                same("l2AdamStep first moment" + at, m, ELEMENTWISE);
                same("l2AdamStep second moment" + at, v, ELEMENTWISE);
            }
        }
    }
}
