package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.backend.ConvGeometry;
import dev.advinterp.engine.memory.NativeMemory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.IntFunction;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The Winograd kernels called directly, whatever the switch and the channel threshold say, with
 * both tile sizes, against a float64 direct convolution and against im2col + GEMM: partial tiles
 * (sizes not multiples of the tile), one pixel, padding 0, 1, 2 and 3 (backward data only up to 2),
 * unequal paddings, channel counts that are multiples of nothing, batches split over the threads
 * and batches whose images take several groups per thread (the filter gradient's accumulation).
 */
class CpuWinogradTest {
    private static final Gemm GEMM = CpuBackend.instance().gemmImpl();
    private static final Arena ARENA = Arena.ofShared();
    /**
     * Error bounds relative to the largest reference value, measured by
     * {@link #errorOfBothTileSizes}: F(2×2, 3×3) stays within a few times im2col's float32
     * rounding, F(4×4, 3×3) within 10–30 times more.
     */
    private static final double TOL_2 = 2e-6, TOL_4 = 2e-5, TOL_IM2COL = 2e-6;

    @AfterAll
    static void close() {
        ARENA.close();
    }

    record Case(int n, int cIn, int cOut, int h, int w, int padH, int padW) {
        ConvGeometry geometry() {
            return new ConvGeometry(n, cIn, h, w, cOut, 3, 3, 1, 1, padH, padW);
        }
    }

    static Stream<Case> cases() {
        return Stream.of(
                new Case(1, 1, 1, 1, 1, 1, 1),     // one pixel: one tile, mostly padding
                new Case(2, 3, 5, 7, 9, 1, 1),     // partial tiles in both directions
                new Case(3, 5, 7, 6, 6, 0, 0),     // no padding
                new Case(4, 17, 19, 11, 13, 1, 1), // split over the threads, odd channels
                new Case(2, 4, 3, 5, 8, 2, 2),     // padding 2: backward data unpadded
                new Case(2, 3, 4, 4, 7, 0, 2),     // unequal padding
                new Case(5, 6, 9, 3, 3, 1, 1),     // odd batch
                new Case(2, 2, 3, 4, 5, 3, 3),     // padding 3: whole tiles read only padding
                new Case(40, 3, 4, 20, 20, 1, 1),  // several image groups per thread
                new Case(1, 33, 18, 30, 31, 1, 1)); // one large image: the GEMMs' own threads
    }

    private static MemorySegment segment(float[] data) {
        MemorySegment s = ARENA.allocate((long) data.length * 4, 64);
        MemorySegment.copy(data, 0, s, ValueLayout.JAVA_FLOAT, 0, data.length);
        return s;
    }

    private static float[] floats(MemorySegment s, long count) {
        float[] out = new float[(int) count];
        MemorySegment.copy(s, ValueLayout.JAVA_FLOAT, 0, out, 0, out.length);
        return out;
    }

    private static float[] normal(SplittableRandom r, int count, double std) {
        float[] out = new float[count];
        for (int i = 0; i < count; i++) {
            // Box–Muller; the test needs spread values, not a particular generator
            double u = 1 - r.nextDouble(), v = r.nextDouble();
            out[i] = (float) (std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
        }
        return out;
    }

    /** The three passes of one geometry from fixed random data. */
    private static final class Data {
        final ConvGeometry g;
        final float[] x, w, dy, bias;
        final int oh, ow;

        Data(ConvGeometry g, long seed) {
            this.g = g;
            SplittableRandom r = new SplittableRandom(seed);
            oh = g.outH();
            ow = g.outW();
            x = normal(r, g.n() * g.cIn() * g.h() * g.w(), 1);
            w = normal(r, g.cOut() * g.cIn() * 9, 1 / Math.sqrt(9.0 * g.cIn()));
            dy = normal(r, g.n() * g.cOut() * oh * ow, 1);
            bias = normal(r, g.cOut(), 1);
        }

        /** y[b, co, oy, ox] = Σ x[b, ci, oy + i − padH, ox + j − padW] · w[co, ci, i, j], in float64. */
        double[] forward() {
            double[] y = new double[g.n() * g.cOut() * oh * ow];
            taps((yi, xi, wi) -> y[yi] += (double) x[xi] * w[wi]);
            for (int i = 0; i < y.length; i++) y[i] += bias[(i / (oh * ow)) % g.cOut()];
            return y;
        }

        double[] backwardData() {
            double[] dx = new double[x.length];
            taps((yi, xi, wi) -> dx[xi] += (double) dy[yi] * w[wi]);
            return dx;
        }

        double[] backwardFilter() {
            double[] dw = new double[w.length];
            taps((yi, xi, wi) -> dw[wi] += (double) dy[yi] * x[xi]);
            return dw;
        }

        interface Tap {
            void at(int yIndex, int xIndex, int wIndex);
        }

        /** Every (output, input, weight) triple of the convolution that reads inside the input. */
        void taps(Tap tap) {
            for (int b = 0; b < g.n(); b++) {
                for (int co = 0; co < g.cOut(); co++) {
                    for (int ci = 0; ci < g.cIn(); ci++) {
                        for (int oy = 0; oy < oh; oy++) {
                            for (int ox = 0; ox < ow; ox++) {
                                for (int i = 0; i < 3; i++) {
                                    int iy = oy + i - g.padH();
                                    if (iy < 0 || iy >= g.h()) continue;
                                    for (int j = 0; j < 3; j++) {
                                        int ix = ox + j - g.padW();
                                        if (ix < 0 || ix >= g.w()) continue;
                                        tap.at(((b * g.cOut() + co) * oh + oy) * ow + ox,
                                                ((b * g.cIn() + ci) * g.h() + iy) * g.w() + ix, ((co * g.cIn() + ci) * 3 + i) * 3 + j);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** max |a − ref| / max |ref|. */
    private static double relError(float[] a, double[] ref) {
        double err = 0, scale = 1e-30;
        for (int i = 0; i < ref.length; i++) {
            err = Math.max(err, Math.abs(a[i] - ref[i]));
            scale = Math.max(scale, Math.abs(ref[i]));
        }
        return err / scale;
    }

    private static double[] f64(float[] a) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i];
        return out;
    }

    private static void assertClose(String what, float[] actual, double[] ref, double tol) {
        double e = relError(actual, ref);
        if (!(e <= tol)) fail(what + ": relative error " + e + " above " + tol);
    }

    private static float[] forward(Data d, int m) {
        ConvGeometry g = d.g;
        MemorySegment y = ARENA.allocate((long) g.n() * g.cOut() * d.oh * d.ow * 4, 64);
        MemorySegment x = segment(d.x), w = segment(d.w), b = segment(d.bias);
        if (m == 0) CpuConv2d.im2colForward(GEMM, x, w, b, g, y);
        else CpuWinograd.forward(GEMM, x, w, b, g, y, m);
        return floats(y, y.byteSize() / 4);
    }

    private static float[] backwardData(Data d, int m) {
        MemorySegment dx = ARENA.allocate((long) d.x.length * 4, 64);
        dx.fill((byte) 0x7f); // every element must be written
        MemorySegment dy = segment(d.dy), w = segment(d.w);
        if (m == 0) CpuConv2d.im2colBackwardData(GEMM, dy, w, d.g, dx);
        else CpuWinograd.backwardData(GEMM, dy, w, d.g, dx, m);
        return floats(dx, d.x.length);
    }

    private static float[] backwardFilter(Data d, boolean winograd) {
        MemorySegment dw = ARENA.allocate((long) d.w.length * 4, 64), db = ARENA.allocate((long) d.g.cOut() * 4, 64);
        dw.fill((byte) 0x7f);
        MemorySegment x = segment(d.x), dy = segment(d.dy);
        if (winograd) CpuWinograd.backwardFilter(GEMM, x, dy, d.g, dw, db);
        else CpuConv2d.im2colBackwardFilter(GEMM, x, dy, d.g, dw, db);
        return floats(dw, d.w.length);
    }

    /** im2col (tile 0) and both tile sizes against the reference, and each tile size against im2col. */
    private static void checkTileSizes(String pass, Case c, double[] ref, IntFunction<float[]> run) {
        float[] im2col = run.apply(0);
        assertClose("im2col " + pass + " " + c, im2col, ref, TOL_IM2COL);
        for (int m : new int[]{2, 4}) {
            double tol = m == 2 ? TOL_2 : TOL_4;
            float[] wino = run.apply(m);
            assertClose("F(" + m + ",3) " + pass + " " + c, wino, ref, tol);
            assertClose("F(" + m + ",3) " + pass + " vs im2col " + c, wino, f64(im2col), tol + TOL_IM2COL);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void forwardMatchesTheReferenceAndIm2col(Case c) {
        Data d = new Data(c.geometry(), 1000 + c.hashCode());
        checkTileSizes("forward", c, d.forward(), m -> forward(d, m));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void backwardDataMatchesTheReferenceAndIm2col(Case c) {
        Data d = new Data(c.geometry(), 2000 + c.hashCode());
        if (c.padH() > 2 || c.padW() > 2) {
            // padding 2 − pad would be negative: CpuConv2d keeps these on im2col
            assertThrows(IllegalArgumentException.class, () -> backwardData(d, 2), "padding above 2 " + c);
            return;
        }
        checkTileSizes("backward data", c, d.backwardData(), m -> backwardData(d, m));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void backwardFilterMatchesTheReferenceAndIm2col(Case c) {
        Data d = new Data(c.geometry(), 3000 + c.hashCode());
        double[] ref = d.backwardFilter();
        float[] im2col = backwardFilter(d, false);
        assertClose("im2col backward filter " + c, im2col, ref, TOL_IM2COL);
        float[] wino = backwardFilter(d, true);
        assertClose("F(3,2) backward filter " + c, wino, ref, TOL_2);
        assertClose("F(3,2) backward filter vs im2col " + c, wino, f64(im2col), TOL_2 + TOL_IM2COL);
    }

    @Test
    void repeatedCallsGiveTheSameBits() {
        Data d = new Data(new Case(6, 20, 24, 9, 10, 1, 1).geometry(), 7);
        for (int m : new int[]{2, 4}) {
            assertTrue(java.util.Arrays.equals(forward(d, m), forward(d, m)), "forward F(" + m + ",3)");
            assertTrue(java.util.Arrays.equals(backwardData(d, m), backwardData(d, m)), "backward data F(" + m + ",3)");
        }
        assertTrue(java.util.Arrays.equals(backwardFilter(d, true), backwardFilter(d, true)), "backward filter");
    }

    /**
     * Each pass takes its buffers from the host memory for the call and gives them all back: a wide
     * layer (the buffers well over the allocator's large-block size) holds nothing once it returns.
     */
    @Test
    void aCallHoldsNoMemoryAfterItReturns() {
        Data d = new Data(new Case(4, 128, 128, 16, 16, 1, 1).geometry(), 13);
        float[] before = forward(d, 2); // first calls: the JIT and the im2col path's own workspaces settle
        backwardData(d, 2);
        backwardFilter(d, true);
        long held = NativeMemory.currentBytes();
        for (String pass : new String[]{"forward", "backward data", "backward filter"}) {
            NativeMemory.resetPeak();
            long allocations = NativeMemory.allocations();
            switch (pass) {
                case "forward" -> assertTrue(java.util.Arrays.equals(before, forward(d, 2)), "same bits");
                case "backward data" -> backwardData(d, 2);
                default -> backwardFilter(d, true);
            }
            assertTrue(NativeMemory.allocations() > allocations, pass + " takes its buffers from the host memory");
            assertTrue(NativeMemory.peakBytes() - held >= NativeMemory.LARGE, pass + " held at least a large block during the call");
            assertEquals(held, NativeMemory.currentBytes(), pass + " gives back all it took");
        }
    }

    /**
     * The errors behind the choice of {@link CpuWinograd#tile()}, on a ResNet-like layer (64
     * channels, 16×16, unit-variance input, He-scaled filters): printed, and bounded by the
     * tolerances above.
     */
    @Test
    void errorOfBothTileSizes() {
        Data d = new Data(new Case(2, 64, 64, 16, 16, 1, 1).geometry(), 11);
        double[] fwd = d.forward(), bwd = d.backwardData(), filt = d.backwardFilter();
        double e0 = relError(forward(d, 0), fwd), e2 = relError(forward(d, 2), fwd), e4 = relError(forward(d, 4), fwd);
        double b0 = relError(backwardData(d, 0), bwd), b2 = relError(backwardData(d, 2), bwd), b4 = relError(backwardData(d, 4), bwd);
        double f0 = relError(backwardFilter(d, false), filt), f2 = relError(backwardFilter(d, true), filt);
        System.out.printf(Locale.ROOT, "winograd error (max |err| / max |ref|, 2x64x16x16 -> 64): forward im2col %.2e,"
                + " F(2,3) %.2e, F(4,3) %.2e; backward data im2col %.2e, F(2,3) %.2e, F(4,3) %.2e;"
                + " backward filter im2col %.2e, F(3,2) %.2e%n", e0, e2, e4, b0, b2, b4, f0, f2);
        assertTrue(e0 <= TOL_IM2COL && b0 <= TOL_IM2COL && f0 <= TOL_IM2COL, "im2col");
        assertTrue(e2 <= TOL_2 && b2 <= TOL_2 && f2 <= TOL_2, "F(2,3) / F(3,2)");
        assertTrue(e4 <= TOL_4 && b4 <= TOL_4, "F(4,3)");
    }
}
