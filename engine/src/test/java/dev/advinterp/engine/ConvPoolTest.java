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
 * Convolution and pooling, forward and backward, against {@link Ref64} and central differences
 * (tolerances in {@link GradCheck}).
 *
 * <p>The CPU convolution takes one of three routes by geometry: images grouped into one im2col
 * GEMM when the output plane is small (fewer than 2048 positions and a batch above 1), one image
 * at a time through im2col when the plane is large or the batch is 1, and no im2col at all for an
 * unpadded 1×1 stride-1 convolution of one image at a time. The examples below pin each route,
 * and a batch whose last group is a single image, so that both routes run in one call.
 */
class ConvPoolTest {

    /** Forward and all three gradients of one convolution. */
    private static void checkConv(String what, long seed, int n, int cIn, int h, int w, int cOut, int kh, int kw,
                                  int sh, int sw, int ph, int pw, boolean withBias) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = normal(r, n * cIn * h * w, 1);
        float[] wt = normal(r, cOut * cIn * kh * kw, 1 / Math.sqrt(cIn * kh * kw));
        float[] b = normal(r, cOut, 1);
        String name = what + String.format(" [%d,%d,%d,%d] * [%d,%d,%d,%d] stride %d,%d pad %d,%d", n, cIn, h, w, cOut, cIn,
                kh, kw, sh, sw, ph, pw);
        Input xi = Input.diff("x", x, n, cIn, h, w), wi = Input.diff("weight", wt, cOut, cIn, kh, kw);
        if (withBias) {
            GradCheck.check(name, seed, t -> Ops.conv2d(t[0], t[1], t[2], sh, sw, ph, pw),
                    in -> Ref64.conv2d(in[0], in[1], in[2], n, cIn, h, w, cOut, kh, kw, sh, sw, ph, pw),
                    xi, wi, Input.diff("bias", b, cOut));
        } else {
            GradCheck.check(name, seed, t -> Ops.conv2d(t[0], t[1], null, sh, sw, ph, pw),
                    in -> Ref64.conv2d(in[0], in[1], null, n, cIn, h, w, cOut, kh, kw, sh, sw, ph, pw), xi, wi);
        }
    }

    record ConvCase(int n, int cIn, int cOut, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, boolean withBias,
                    long seed) {
    }

    static Stream<ConvCase> conv2dCases() {
        return Cases.draw(401, 30, d -> {
            int n = d.between(1, 4), cIn = d.between(1, 3), cOut = d.between(1, 4), h = d.between(1, 11), w = d.between(1, 11);
            int khRaw = d.between(1, 5), kwRaw = d.between(1, 5), sh = d.between(1, 4), sw = d.between(1, 4);
            int ph = d.between(0, 2), pw = d.between(0, 2);
            boolean withBias = d.bool();
            // a kernel never larger than the padded input, which the op rejects
            int kh = Math.min(khRaw, h + 2 * ph), kw = Math.min(kwRaw, w + 2 * pw);
            return new ConvCase(n, cIn, cOut, h, w, kh, kw, sh, sw, ph, pw, withBias, d.seed());
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("conv2dCases")
    void conv2dOnRandomGeometries(ConvCase c) {
        checkConv("conv2d", c.seed(), c.n(), c.cIn(), c.h(), c.w(), c.cOut(), c.kh(), c.kw(), c.sh(), c.sw(), c.ph(), c.pw(),
                c.withBias());
    }

    record PointwiseCase(int n, int cIn, int cOut, int h, int w, long seed) {
    }

    static Stream<PointwiseCase> pointwiseCases() {
        return Cases.draw(402, 15, d -> new PointwiseCase(d.between(1, 5), d.between(1, 6), d.between(1, 6), d.between(1, 13),
                d.between(1, 13), d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pointwiseCases")
    void conv2dPointwise(PointwiseCase c) {
        checkConv("conv2d 1x1", c.seed(), c.n(), c.cIn(), c.h(), c.w(), c.cOut(), 1, 1, 1, 1, 0, 0, true);
    }

    @Test
    void groupedImagesOnSmallPlanes() {
        // 25 output positions: all 3 images in one im2col GEMM
        checkConv("grouped", 11, 3, 2, 5, 5, 4, 3, 3, 1, 1, 1, 1, true);
    }

    @Test
    void pointwiseSingleImage() {
        checkConv("pointwise, one image", 12, 1, 3, 6, 7, 5, 1, 1, 1, 1, 0, 0, true);
    }

    @Test
    void pointwiseGroupThenSingleImage() {
        // 900 positions: groups of 3 images, so a batch of 4 ends with a lone image at an offset
        checkConv("pointwise, group of 3 then 1", 13, 4, 2, 30, 30, 3, 1, 1, 1, 1, 0, 0, true);
    }

    @Test
    void pointwiseLargePlanesOneImageAtATime() {
        // 2304 positions: one image per GEMM, the second read and written at an offset
        checkConv("pointwise, large plane", 14, 2, 2, 48, 48, 3, 1, 1, 1, 1, 0, 0, false);
    }

    @Test
    void im2colLargePlanesOneImageAtATime() {
        // 46×46 output (2116 positions) from a padded 3×3 kernel: im2col per image
        checkConv("im2col, large plane", 15, 2, 2, 46, 46, 2, 3, 3, 1, 1, 1, 1, true);
    }

    @Test
    void im2colGroupThenSingleImage() {
        // 30×30 output from 3×3, padding 1: groups of 3, the fourth image alone through im2col
        checkConv("im2col, group of 3 then 1", 16, 4, 1, 30, 30, 2, 3, 3, 1, 1, 1, 1, true);
    }

    @Test
    void strideLargerThanKernelSkipsPixels() {
        checkConv("stride > kernel", 17, 2, 2, 9, 8, 3, 2, 2, 3, 3, 0, 0, true);
    }

    @Test
    void oneByOneKernelsThatAreNotPointwise() {
        checkConv("1x1 stride 2", 18, 2, 3, 7, 6, 2, 1, 1, 2, 2, 0, 0, true);
        checkConv("1x1 padding 1", 19, 2, 3, 4, 5, 2, 1, 1, 1, 1, 1, 1, true);
    }

    @Test
    void rectangularKernelStrideAndPadding() {
        checkConv("rectangular", 20, 2, 2, 7, 9, 3, 3, 2, 2, 1, 1, 0, true);
    }

    @Test
    void kernelAsLargeAsThePaddedInput() {
        checkConv("kernel = padded input", 21, 2, 2, 3, 3, 2, 5, 5, 1, 1, 1, 1, true);
    }

    // ---------------------------------------------------------------- pooling

    /** A valid square pooling geometry from raw draws: padding at most half the kernel, input at least the window. */
    private record Pool(int n, int c, int h, int w, int k, int s, int p) {
        static Pool of(int n, int c, int h, int w, int k, int s, int pRaw) {
            int p = Math.min(pRaw, k / 2);
            return new Pool(n, c, Math.max(h, k - 2 * p), Math.max(w, k - 2 * p), k, s, p);
        }

        int numel() {
            return n * c * h * w;
        }

        @Override
        public String toString() {
            return "[" + n + "," + c + "," + h + "," + w + "] k" + k + " s" + s + " p" + p;
        }
    }

    record PoolCase(Pool g, long seed) {
        @Override
        public String toString() {
            return g + " seed " + seed;
        }
    }

    private static Stream<PoolCase> poolCases(long casesSeed) {
        return Cases.draw(casesSeed, 30, d -> new PoolCase(Pool.of(d.between(1, 3), d.between(1, 3), d.between(1, 10),
                d.between(1, 10), d.between(1, 4), d.between(1, 4), d.between(0, 2)), d.seed()));
    }

    static Stream<PoolCase> maxPoolCases() {
        return poolCases(403);
    }

    static Stream<PoolCase> avgPoolCases() {
        return poolCases(404);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("maxPoolCases")
    void maxPool(PoolCase pc) {
        Pool g = pc.g();
        long seed = pc.seed();
        // values 0.01 apart: the maximum of each window survives a nudge of 1e-3
        float[] x = spaced(new SplittableRandom(seed), g.numel(), 0.01);
        GradCheck.check("maxPool2d " + g, seed, t -> Ops.maxPool2d(t[0], g.k, g.s, g.p),
                in -> Ref64.maxPool2d(in[0], g.n, g.c, g.h, g.w, g.k, g.s, g.p), Input.diff("x", x, g.n, g.c, g.h, g.w));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("avgPoolCases")
    void avgPool(PoolCase pc) {
        Pool g = pc.g();
        long seed = pc.seed();
        float[] x = normal(new SplittableRandom(seed), g.numel(), 1);
        GradCheck.check("avgPool2d " + g, seed, t -> Ops.avgPool2d(t[0], g.k, g.s, g.p),
                in -> Ref64.avgPool2d(in[0], g.n, g.c, g.h, g.w, g.k, g.s, g.p), Input.diff("x", x, g.n, g.c, g.h, g.w));
    }

    record AdaptiveCase(int n, int c, int h, int w, int oh, int ow, long seed) {
    }

    static Stream<AdaptiveCase> adaptiveAvgPoolCases() {
        return Cases.draw(405, 30, d -> new AdaptiveCase(d.between(1, 3), d.between(1, 3), d.between(1, 13), d.between(1, 13),
                d.between(1, 8), d.between(1, 8), d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("adaptiveAvgPoolCases")
    void adaptiveAvgPool(AdaptiveCase ac) {
        int n = ac.n(), c = ac.c(), h = ac.h(), w = ac.w(), oh = ac.oh(), ow = ac.ow();
        long seed = ac.seed();
        // outputs larger than the input and sizes that do not divide give overlapping, uneven bins
        float[] x = normal(new SplittableRandom(seed), n * c * h * w, 1);
        GradCheck.check("adaptiveAvgPool2d " + h + "x" + w + " to " + oh + "x" + ow, seed,
                t -> Ops.adaptiveAvgPool2d(t[0], oh, ow),
                in -> Ref64.adaptiveAvgPool2d(in[0], n, c, h, w, oh, ow), Input.diff("x", x, n, c, h, w));
    }

    @Test
    void maxPoolNeverSelectsPadding() {
        try (var s = Scope.open()) {
            Tensor x = Tensor.of(new float[]{-4, -3, -2, -1}, 1, 1, 2, 2);
            // each padded 2×2 window holds one real pixel, which is negative: padding would give 0
            assertArrayEquals(new float[]{-4, -3, -2, -1}, Ops.maxPool2d(x, 2, 2, 1).toArray());
        }
    }

    @Test
    void maxPoolGradientGoesToTheFirstMaximumAndAddsUpWhereWindowsOverlap() {
        try (var s = Scope.open(); var tape = Tape.start()) {
            // windows of 2, stride 1 over [[5,5,1],[0,0,1]]: both windows see the tie 5,5 in row 0
            Tensor x = tape.watch(Tensor.of(new float[]{5, 5, 1, 0, 0, 1}, 1, 1, 2, 3));
            Tensor y = Ops.maxPool2d(x, 2, 1, 0);
            assertArrayEquals(new float[]{5, 5}, y.toArray());
            Tensor dx = tape.backward(y, Tensor.of(new float[]{1, 10}, 1, 1, 1, 2)).of(x);
            assertArrayEquals(new float[]{1, 10, 0, 0, 0, 0}, dx.toArray());
        }
    }

    @Test
    void maxPoolPropagatesNaNAndItsGradientGoesToTheLastNaN() {
        try (var s = Scope.open(); var tape = Tape.start()) {
            // one 2×2 window holding 7, NaN, NaN, 9: the output is NaN and, as in PyTorch, the last NaN takes dy
            Tensor x = tape.watch(Tensor.of(new float[]{7, Float.NaN, Float.NaN, 9}, 1, 1, 2, 2));
            Tensor y = Ops.maxPool2d(x, 2, 2, 0);
            assertTrue(Float.isNaN(y.toArray()[0]));
            Tensor dx = tape.backward(y, Tensor.of(new float[]{3}, 1, 1, 1, 1)).of(x);
            assertArrayEquals(new float[]{0, 0, 3, 0}, dx.toArray());
        }
    }

    @Test
    void maxPoolOfZerosIsTheFirstZeroAndTakesTheGradient() {
        try (var s = Scope.open(); var tape = Tape.start()) {
            // 2×2 and 3×3 windows (the unrolled paths), each starting with −0
            for (int k : new int[]{2, 3}) {
                float[] v = new float[k * k];
                v[0] = -0f;
                for (int i = 1; i < v.length; i++) v[i] = i % 2 == 0 ? -0f : 0f;
                Tensor x = tape.watch(Tensor.of(v, 1, 1, k, k));
                Tensor y = Ops.maxPool2d(x, k, k, 0);
                // PyTorch keeps the first of equal maxima, −0 here (torch 1.13: max_pool2d gives −0.0)
                assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(y.toArray()[0]), k + "×" + k + ": the first zero, −0");
                float[] dx = tape.backward(y, Tensor.of(new float[]{7}, 1, 1, 1, 1)).of(x).toArray();
                assertEquals(7f, dx[0], k + "×" + k + ": the first of the equal zeros takes dy");
            }
        }
    }

    @Test
    void avgPoolCountsPaddedZeros() {
        try (var s = Scope.open()) {
            Tensor x = Tensor.full(Shape.of(1, 1, 2, 2), 1f);
            // each 2×2 window at stride 2 with padding 1 covers one real pixel: 1/4, as PyTorch's count_include_pad
            assertArrayEquals(new float[]{0.25f, 0.25f, 0.25f, 0.25f}, Ops.avgPool2d(x, 2, 2, 1).toArray());
        }
    }

    @Test
    void adaptiveAvgPoolToOneIsTheMeanOfEachPlane() {
        float[] x = normal(new SplittableRandom(22), 2 * 3 * 7 * 5, 1);
        try (var s = Scope.open()) {
            float[] y = Ops.adaptiveAvgPool2d(Tensor.of(x, 2, 3, 7, 5), 1, 1).toArray();
            for (int pl = 0; pl < 6; pl++) {
                double m = 0;
                for (int i = 0; i < 35; i++) m += x[pl * 35 + i];
                // a float32 sum of 35 terms
                assertEquals(m / 35, y[pl], 1e-5, "plane " + pl);
            }
        }
    }
}
