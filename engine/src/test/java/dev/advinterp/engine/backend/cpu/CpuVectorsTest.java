package dev.advinterp.engine.backend.cpu;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shared Vector API loops against one-by-one loops over odd ranges (vector tails, ranges that
 * start off a vector boundary): the maps bit for bit, the float64 sums to float64 rounding, exp
 * within a few float64 ulps, and each sum the same on a second run.
 */
class CpuVectorsTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final long[][] RANGES = {{0, 0}, {0, 1}, {3, 4}, {0, 7}, {1, 40}, {5, 1_000}, {0, 65_536}, {13, 70_001}};

    private static MemorySegment random(Arena a, SplittableRandom r, long n) {
        MemorySegment s = a.allocate(F, n);
        for (long i = 0; i < n; i++) s.setAtIndex(F, i, (float) (r.nextGaussian() * 3 + 0.5));
        return s;
    }

    private static void assertSum(double want, double got, double magnitude, String what) {
        assertEquals(want, got, 1e-12 * Math.max(1, magnitude), what);
    }

    @Test
    void sumsAgreeWithOneByOneLoopsAndRepeatThemselves() {
        SplittableRandom r = new SplittableRandom(11);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment x = random(a, r, 70_001);
            for (long[] rg : RANGES) {
                long s = rg[0], e = rg[1];
                double sum = 0, sq = 0, abs = 0;
                for (long i = s; i < e; i++) {
                    double v = x.getAtIndex(F, i);
                    sum += v;
                    sq += v * v;
                    abs += Math.abs(v);
                }
                String at = " over [" + s + ", " + e + ")";
                assertSum(sum, CpuVectors.sum(x, s, e), abs, "sum" + at);
                assertSum(sq, CpuVectors.sumOfSquares(x, s, e), sq, "sum of squares" + at);
                assertEquals(Double.doubleToRawLongBits(CpuVectors.sum(x, s, e)), Double.doubleToRawLongBits(CpuVectors.sum(x, s, e)),
                        "the same bits twice" + at);
            }
        }
    }

    /** One channel of an NCHW tensor: planes of len elements, stride apart; lengths below, at and off the vector width. */
    @Test
    void planeSumsAgreeWithOneByOneLoops() {
        SplittableRandom r = new SplittableRandom(13);
        int[][] cases = {{1, 1, 1}, {3, 3, 7}, {64, 16, 512 * 16}, {8, 49, 512 * 49}, {5, 196, 3 * 196}, {2, 1027, 1030}, {1, 4099, 0}};
        try (Arena a = Arena.ofConfined()) {
            MemorySegment x = random(a, r, 600_000), y = random(a, r, 600_000);
            double[] out = new double[2];
            for (int[] c : cases) {
                int planes = c[0], len = c[1];
                long stride = c[2], base = 5;
                double mean = 0.25, sum = 0, dev = 0, dy = 0, prod = 0, abs = 0, absProd = 0;
                for (int p = 0; p < planes; p++) {
                    for (int i = 0; i < len; i++) {
                        long at = base + p * stride + i;
                        double v = x.getAtIndex(F, at), w = y.getAtIndex(F, at);
                        sum += v;
                        dev += (v - mean) * (v - mean);
                        dy += w;
                        prod += w * (v - mean);
                        abs += Math.abs(v) + Math.abs(w);
                        absProd += Math.abs(w) * Math.abs(v - mean);
                    }
                }
                String at = " for " + planes + " planes of " + len + ", stride " + stride;
                assertSum(sum, CpuVectors.sumOfPlanes(x, base, stride, planes, len), abs, "sum" + at);
                assertSum(dev, CpuVectors.sumOfSquaredDeviationsOfPlanes(x, base, stride, planes, len, mean), dev, "squared deviations" + at);
                CpuVectors.sumAndProductsWithDeviationsOfPlanes(y, x, base, stride, planes, len, mean, out);
                assertSum(dy, out[0], abs, "sum of dy" + at);
                assertSum(prod, out[1], absProd, "products" + at);
            }
        }
    }

    @Test
    void squaredDifferenceWritesTheGradientsBitForBit() {
        SplittableRandom r = new SplittableRandom(12);
        try (Arena a = Arena.ofConfined()) {
            long n = 70_001;
            MemorySegment x = random(a, r, n), y = random(a, r, n), ga = a.allocate(F, n), gb = a.allocate(F, n);
            for (long[] rg : RANGES) {
                long s = rg[0], e = rg[1];
                float k = 2f / 77;
                double want = 0;
                double got = CpuVectors.squaredDifference(x, y, s, e, k, ga, gb);
                for (long i = s; i < e; i++) {
                    float d = x.getAtIndex(F, i) - y.getAtIndex(F, i);
                    want += (double) d * d;
                    assertEquals(Float.floatToRawIntBits(k * d), Float.floatToRawIntBits(ga.getAtIndex(F, i)), "gradA at " + i);
                    assertEquals(Float.floatToRawIntBits(-k * d), Float.floatToRawIntBits(gb.getAtIndex(F, i)), "gradB at " + i);
                }
                assertSum(want, got, want, "squared difference over [" + s + ", " + e + ")");
            }
        }
    }

    @Test
    void maxExpAndAffineAgreeWithOneByOneLoops() {
        SplittableRandom r = new SplittableRandom(13);
        try (Arena a = Arena.ofConfined()) {
            long n = 70_001;
            MemorySegment x = random(a, r, n), out = a.allocate(F, n);
            for (long[] rg : RANGES) {
                long s = rg[0], e = rg[1];
                String at = " over [" + s + ", " + e + ")";
                float m = Float.NEGATIVE_INFINITY;
                for (long i = s; i < e; i++) m = Math.max(m, x.getAtIndex(F, i));
                assertEquals(m, CpuVectors.max(x, s, e), "max" + at);
                double z = 0;
                for (long i = s; i < e; i++) z += Math.exp(x.getAtIndex(F, i) - 1.5);
                assertSum(z, CpuVectors.sumOfExp(x, s, e, 1.5), z * 1e3, "sum of exp" + at);
                CpuVectors.expScaled(x, s, e, 1.5, 0.01, out);
                for (long i = s; i < e; i++) {
                    float want = (float) (Math.exp(x.getAtIndex(F, i) - 1.5) * 0.01);
                    assertTrue(Math.abs(want - out.getAtIndex(F, i)) <= Math.ulp(want), "exp·scale at " + i + at);
                }
                CpuVectors.affine(x, 0.7f, -0.2f, out, s, e);
                for (long i = s; i < e; i++) {
                    assertEquals(Float.floatToRawIntBits(x.getAtIndex(F, i) * 0.7f + -0.2f), Float.floatToRawIntBits(out.getAtIndex(F, i)),
                            "affine at " + i);
                }
            }
            x.setAtIndex(F, 20, Float.NaN);
            assertTrue(Float.isNaN(CpuVectors.max(x, 0, 40)), "a NaN in the range makes the max NaN");
        }
    }

    @Test
    void hasNaNFindsANaNAnywhereInTheRangeAndNothingOutsideIt() {
        SplittableRandom r = new SplittableRandom(9);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment x = random(a, r, 70_010);
            for (long[] range : RANGES) {
                assertTrue(!CpuVectors.hasNaN(x, range[0], range[1]), "no NaN in " + range[0] + ".." + range[1]);
                for (long at : new long[]{range[0], (range[0] + range[1]) / 2, range[1] - 1}) {
                    if (at < range[0] || at >= range[1]) continue;
                    float was = x.getAtIndex(F, at);
                    x.setAtIndex(F, at, Float.NaN);
                    assertTrue(CpuVectors.hasNaN(x, range[0], range[1]), "NaN at " + at + " in " + range[0] + ".." + range[1]);
                    assertTrue(!CpuVectors.hasNaN(x, range[1], range[1] + 9), "the NaN at " + at + " lies before " + range[1]);
                    x.setAtIndex(F, at, was);
                }
                x.setAtIndex(F, range[1], Float.POSITIVE_INFINITY);
                assertTrue(!CpuVectors.hasNaN(x, range[0], range[1] + 1), "infinity is not NaN");
                x.setAtIndex(F, range[1], 1f);
            }
        }
    }
}
