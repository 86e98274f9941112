package dev.advinterp.engine.backend.cpu;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The Vector API FGSM step and SGD update against their one-element-at-a-time references, bit for
 * bit: odd sizes (vector tails), planes shorter and longer than a block, per-channel bounds, zero
 * gradients (sign 0), every SGD variant.
 */
class CpuFusedVectorTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private static MemorySegment random(Arena a, SplittableRandom r, long n, float zeroShare) {
        MemorySegment s = a.allocate(F, n);
        for (long i = 0; i < n; i++) s.setAtIndex(F, i, r.nextDouble() < zeroShare ? 0f : (float) r.nextGaussian());
        return s;
    }

    private static void assertBitIdentical(MemorySegment want, MemorySegment got, long n, String what) {
        for (long i = 0; i < n; i++) {
            assertEquals(Float.floatToRawIntBits(want.getAtIndex(F, i)), Float.floatToRawIntBits(got.getAtIndex(F, i)), what + ", element " + i);
        }
    }

    @Test
    void theFgsmStepIsBitIdenticalToTheScalarOneOnEveryShape() {
        SplittableRandom r = new SplittableRandom(5);
        int[][] shapes = {{1, 1, 1}, {1, 1, 37}, {2, 3, 1}, {4, 3, 1025}, {3, 3, 50_000}, {1, 1, 200_001}, {64, 1, 17}};
        try (Arena a = Arena.ofShared()) {
            for (int[] sh : shapes) {
                int n = sh[0], channels = sh[1], inner = sh[2], planes = n * channels;
                long total = (long) planes * inner;
                MemorySegment g = random(a, r, total, 0.2f), x0 = random(a, r, total, 0f), x = random(a, r, total, 0f);
                MemorySegment want = a.allocate(F, total);
                want.copyFrom(x);
                float[] lo = new float[channels], hi = new float[channels];
                for (int c = 0; c < channels; c++) {
                    lo[c] = -1f + 0.3f * c;
                    hi[c] = 0.8f + 0.2f * c;
                }
                CpuFused.fgsmStepScalar(want, g, x0, 0.07f, 0.5f, lo, hi, planes, channels, inner);
                CpuFused.fgsmStep(x, g, x0, 0.07f, 0.5f, lo, hi, planes, channels, inner);
                assertBitIdentical(want, x, total, "fgsm " + java.util.Arrays.toString(sh));
            }
        }
    }

    @Test
    void theSgdUpdateIsBitIdenticalToTheScalarOneInEveryVariant() {
        SplittableRandom r = new SplittableRandom(6);
        try (Arena a = Arena.ofShared()) {
            for (long n : new long[]{1, 15, 1000, 70_003}) {
                for (int variant = 0; variant < 4; variant++) {
                    float momentum = variant == 0 ? 0f : 0.9f, dampening = variant == 3 ? 0.1f : 0f, wd = variant == 1 ? 0f : 5e-4f;
                    boolean nesterov = variant == 2;
                    MemorySegment p = random(a, r, n, 0f), grad = random(a, r, n, 0.1f), buf = random(a, r, n, 0f);
                    MemorySegment p2 = a.allocate(F, n), buf2 = a.allocate(F, n);
                    p2.copyFrom(p);
                    buf2.copyFrom(buf);
                    CpuFused.sgdScalar(p2, grad, buf2, 0.05f, momentum, dampening, wd, nesterov, 0, n);
                    CpuFused.sgd(p, grad, buf, 0.05f, momentum, dampening, wd, nesterov, n);
                    assertBitIdentical(p2, p, n, "sgd parameters, n " + n + ", variant " + variant);
                    assertBitIdentical(buf2, buf, n, "sgd momentum, n " + n + ", variant " + variant);
                }
            }
        }
    }
}
