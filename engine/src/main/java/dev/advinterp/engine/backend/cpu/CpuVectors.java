package dev.advinterp.engine.backend.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The Vector API loops the CPU kernels share: float32 elements read from the segments, sums in
 * float64. A sum runs {@link #LANES} float64 accumulators over the range, each lane adding its
 * elements in index order, and then adds the lanes in lane order: the same bits on every run and
 * thread count (the blocks of a range are fixed by the caller), though not the bits of a one-by-one
 * loop (the difference is float64 rounding, far below float32's).
 */
final class CpuVectors {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    /** Float64 lanes. */
    static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Float32 vectors of as many lanes as {@link #D}, widened one to one. */
    static final VectorSpecies<Float> HALF = VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize() / 2));
    static final int LANES = D.length();

    private CpuVectors() {
    }

    private static DoubleVector wide(MemorySegment x, long i) {
        return (DoubleVector) FloatVector.fromMemorySegment(HALF, x, i * Float.BYTES, NATIVE).convertShape(VectorOperators.F2D, D, 0);
    }

    /** The lanes of {@code acc} added in lane order, then {@code tail}. */
    private static double total(DoubleVector acc, double tail) {
        double t = 0;
        for (int lane = 0; lane < LANES; lane++) t += acc.lane(lane);
        return t + tail;
    }

    /** Σ x[i] over [s, e). */
    static double sum(MemorySegment x, long s, long e) {
        DoubleVector acc = DoubleVector.zero(D);
        long i = s;
        for (long bound = s + HALF.loopBound(e - s); i < bound; i += LANES) acc = acc.add(wide(x, i));
        double tail = 0;
        for (; i < e; i++) tail += x.getAtIndex(F, i);
        return total(acc, tail);
    }

    /** Σ x[i]² over [s, e). */
    static double sumOfSquares(MemorySegment x, long s, long e) {
        DoubleVector acc = DoubleVector.zero(D);
        long i = s;
        for (long bound = s + HALF.loopBound(e - s); i < bound; i += LANES) {
            DoubleVector v = wide(x, i);
            acc = acc.add(v.mul(v));
        }
        double tail = 0;
        for (; i < e; i++) {
            double v = x.getAtIndex(F, i);
            tail += v * v;
        }
        return total(acc, tail);
    }

    /**
     * Σ x over the {@code planes} runs of {@code len} elements that start {@code stride} apart at
     * {@code base}: one channel of an NCHW tensor. The lanes accumulate across all the runs and are
     * added once at the end, so that a channel of many small planes (a 4×4 map at batch 64) costs
     * one reduction, not one per plane.
     */
    static double sumOfPlanes(MemorySegment x, long base, long stride, int planes, int len) {
        DoubleVector acc = DoubleVector.zero(D);
        double tail = 0;
        int bound = HALF.loopBound(len);
        for (int p = 0; p < planes; p++) {
            long b = base + p * stride;
            int i = 0;
            for (; i < bound; i += LANES) acc = acc.add(wide(x, b + i));
            for (; i < len; i++) tail += x.getAtIndex(F, b + i);
        }
        return total(acc, tail);
    }

    /** Σ (x − mean)² over the runs of {@link #sumOfPlanes}. */
    static double sumOfSquaredDeviationsOfPlanes(MemorySegment x, long base, long stride, int planes, int len, double mean) {
        DoubleVector acc = DoubleVector.zero(D);
        double tail = 0;
        int bound = HALF.loopBound(len);
        for (int p = 0; p < planes; p++) {
            long b = base + p * stride;
            int i = 0;
            for (; i < bound; i += LANES) {
                DoubleVector d = wide(x, b + i).sub(mean);
                acc = acc.add(d.mul(d));
            }
            for (; i < len; i++) {
                double d = x.getAtIndex(F, b + i) - mean;
                tail += d * d;
            }
        }
        return total(acc, tail);
    }

    /**
     * Over the runs of {@link #sumOfPlanes}, in one pass over dy and x: {@code out[0] = Σ dy} and
     * {@code out[1] = Σ dy·(x − mean)} (batch norm's backward sums).
     */
    static void sumAndProductsWithDeviationsOfPlanes(MemorySegment dy, MemorySegment x, long base, long stride, int planes, int len,
                                                     double mean, double[] out) {
        DoubleVector sdy = DoubleVector.zero(D), sdyx = DoubleVector.zero(D);
        double tdy = 0, tdyx = 0;
        int bound = HALF.loopBound(len);
        for (int p = 0; p < planes; p++) {
            long b = base + p * stride;
            int i = 0;
            for (; i < bound; i += LANES) {
                DoubleVector d = wide(dy, b + i);
                sdy = sdy.add(d);
                sdyx = sdyx.add(d.mul(wide(x, b + i).sub(mean)));
            }
            for (; i < len; i++) {
                double d = dy.getAtIndex(F, b + i);
                tdy += d;
                tdyx += d * (x.getAtIndex(F, b + i) - mean);
            }
        }
        out[0] = total(sdy, tdy);
        out[1] = total(sdyx, tdyx);
    }

    /**
     * Σ (a[i] − b[i])² over [s, e), the difference taken in float32 and squared in float64 (exact);
     * with gradA[i] = k·(a[i] − b[i]) and gradB[i] = −k·(a[i] − b[i]) written where not null.
     */
    static double squaredDifference(MemorySegment a, MemorySegment b, long s, long e, float k, MemorySegment gradA,
                                    MemorySegment gradB) {
        DoubleVector acc = DoubleVector.zero(D);
        long i = s;
        for (long bound = s + HALF.loopBound(e - s); i < bound; i += LANES) {
            long off = i * Float.BYTES;
            FloatVector d = FloatVector.fromMemorySegment(HALF, a, off, NATIVE).sub(FloatVector.fromMemorySegment(HALF, b, off, NATIVE));
            if (gradA != null) d.mul(k).intoMemorySegment(gradA, off, NATIVE);
            if (gradB != null) d.mul(-k).intoMemorySegment(gradB, off, NATIVE);
            DoubleVector w = (DoubleVector) d.convertShape(VectorOperators.F2D, D, 0);
            acc = acc.add(w.mul(w));
        }
        double tail = 0;
        for (; i < e; i++) {
            float d = a.getAtIndex(F, i) - b.getAtIndex(F, i);
            tail += (double) d * d;
            if (gradA != null) gradA.setAtIndex(F, i, k * d);
            if (gradB != null) gradB.setAtIndex(F, i, -k * d);
        }
        return total(acc, tail);
    }

    /** max x[i] over [s, e) (NaN if any element is NaN; −∞ for an empty range). */
    static float max(MemorySegment x, long s, long e) {
        VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
        FloatVector acc = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        long i = s;
        for (long bound = s + S.loopBound(e - s); i < bound; i += S.length()) {
            acc = acc.max(FloatVector.fromMemorySegment(S, x, i * Float.BYTES, NATIVE));
        }
        float m = acc.reduceLanes(VectorOperators.MAX);
        for (; i < e; i++) m = Math.max(m, x.getAtIndex(F, i));
        return m;
    }

    /** Whether x[i] is NaN for some i in [s, e): the lanes' NaN masks or-ed, no reduction per vector. */
    static boolean hasNaN(MemorySegment x, long s, long e) {
        VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
        VectorMask<Float> nan = S.maskAll(false);
        long i = s;
        for (long bound = s + S.loopBound(e - s); i < bound; i += S.length()) {
            FloatVector v = FloatVector.fromMemorySegment(S, x, i * Float.BYTES, NATIVE);
            nan = nan.or(v.compare(VectorOperators.NE, v));
        }
        boolean any = nan.anyTrue();
        for (; i < e; i++) any |= Float.isNaN(x.getAtIndex(F, i));
        return any;
    }

    /** Σ exp(x[i] − shift) over [s, e), exp in float64 lanes (within an ulp of {@link Math#exp}). */
    static double sumOfExp(MemorySegment x, long s, long e, double shift) {
        DoubleVector acc = DoubleVector.zero(D);
        long i = s;
        for (long bound = s + HALF.loopBound(e - s); i < bound; i += LANES) {
            acc = acc.add(wide(x, i).sub(shift).lanewise(VectorOperators.EXP));
        }
        double tail = 0;
        for (; i < e; i++) tail += Math.exp(x.getAtIndex(F, i) - shift);
        return total(acc, tail);
    }

    /** out[i] = (float) (exp(x[i] − shift)·scale) over [s, e), in float64 lanes. */
    static void expScaled(MemorySegment x, long s, long e, double shift, double scale, MemorySegment out) {
        long i = s;
        for (long bound = s + HALF.loopBound(e - s); i < bound; i += LANES) {
            DoubleVector p = wide(x, i).sub(shift).lanewise(VectorOperators.EXP).mul(scale);
            ((FloatVector) p.convertShape(VectorOperators.D2F, HALF, 0)).intoMemorySegment(out, i * Float.BYTES, NATIVE);
        }
        for (; i < e; i++) out.setAtIndex(F, i, (float) (Math.exp(x.getAtIndex(F, i) - shift) * scale));
    }

    /** y[i] = x[i]·a + b over [s, e), multiply then add in float32 (no fused multiply-add, as the scalar code). */
    static void affine(MemorySegment x, float a, float b, MemorySegment y, long s, long e) {
        VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
        long i = s;
        for (long bound = s + S.loopBound(e - s); i < bound; i += S.length()) {
            long off = i * Float.BYTES;
            FloatVector.fromMemorySegment(S, x, off, NATIVE).mul(a).add(b).intoMemorySegment(y, off, NATIVE);
        }
        for (; i < e; i++) y.setAtIndex(F, i, x.getAtIndex(F, i) * a + b);
    }
}
