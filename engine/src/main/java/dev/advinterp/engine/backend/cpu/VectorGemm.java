package dev.advinterp.engine.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The GEMM that takes over when no OpenBLAS loads: Java's Vector API, 4 rows of C at a time
 * against one vector of columns, blocked over k and n so that a panel of B stays in cache.
 * Both operands are first packed into row-major heap arrays (this path is a fallback: it favours
 * being simple and correct over reaching the machine's peak).
 */
public final class VectorGemm implements Gemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int KC = 256, NC = 512;

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k,
                      float alpha, MemorySegment a, long aOffset, int lda,
                      MemorySegment b, long bOffset, int ldb,
                      float beta, MemorySegment c, long cOffset, int ldc) {
        float[] pa = new float[m * k];
        float[] pb = new float[k * n];
        for (int i = 0; i < m; i++) {
            for (int p = 0; p < k; p++) {
                long idx = transA ? aOffset + (long) p * lda + i : aOffset + (long) i * lda + p;
                pa[i * k + p] = a.getAtIndex(ValueLayout.JAVA_FLOAT, idx);
            }
        }
        for (int p = 0; p < k; p++) {
            for (int j = 0; j < n; j++) {
                long idx = transB ? bOffset + (long) j * ldb + p : bOffset + (long) p * ldb + j;
                pb[p * n + j] = b.getAtIndex(ValueLayout.JAVA_FLOAT, idx);
            }
        }
        int rowBlocks = (m + 3) / 4;
        Parallel.forRange(rowBlocks, 1, (s, e) -> {
            float[] acc = new float[4 * NC];
            for (int rb = s; rb < e; rb++) {
                int i0 = rb * 4, rows = Math.min(4, m - i0);
                for (int j0 = 0; j0 < n; j0 += NC) {
                    int nc = Math.min(NC, n - j0);
                    java.util.Arrays.fill(acc, 0f);
                    for (int p0 = 0; p0 < k; p0 += KC) {
                        int kc = Math.min(KC, k - p0);
                        block(pa, pb, acc, i0, rows, j0, nc, p0, kc, k, n);
                    }
                    for (int r = 0; r < rows; r++) {
                        long crow = cOffset + (long) (i0 + r) * ldc + j0;
                        for (int j = 0; j < nc; j++) {
                            float old = beta == 0f ? 0f : beta * c.getAtIndex(ValueLayout.JAVA_FLOAT, crow + j);
                            c.setAtIndex(ValueLayout.JAVA_FLOAT, crow + j, old + alpha * acc[r * NC + j]);
                        }
                    }
                }
            }
        });
    }

    private static void block(float[] pa, float[] pb, float[] acc, int i0, int rows, int j0, int nc, int p0, int kc, int k, int n) {
        int vl = S.length();
        for (int j = 0; j < nc; j += vl) {
            VectorMask<Float> mask = S.indexInRange(j, nc);
            FloatVector c0 = FloatVector.fromArray(S, acc, j, mask);
            FloatVector c1 = rows > 1 ? FloatVector.fromArray(S, acc, NC + j, mask) : null;
            FloatVector c2 = rows > 2 ? FloatVector.fromArray(S, acc, 2 * NC + j, mask) : null;
            FloatVector c3 = rows > 3 ? FloatVector.fromArray(S, acc, 3 * NC + j, mask) : null;
            for (int p = p0; p < p0 + kc; p++) {
                FloatVector bv = FloatVector.fromArray(S, pb, p * n + j0 + j, mask);
                c0 = bv.fma(FloatVector.broadcast(S, pa[i0 * k + p]), c0);
                if (c1 != null) c1 = bv.fma(FloatVector.broadcast(S, pa[(i0 + 1) * k + p]), c1);
                if (c2 != null) c2 = bv.fma(FloatVector.broadcast(S, pa[(i0 + 2) * k + p]), c2);
                if (c3 != null) c3 = bv.fma(FloatVector.broadcast(S, pa[(i0 + 3) * k + p]), c3);
            }
            c0.intoArray(acc, j, mask);
            if (c1 != null) c1.intoArray(acc, NC + j, mask);
            if (c2 != null) c2.intoArray(acc, 2 * NC + j, mask);
            if (c3 != null) c3.intoArray(acc, 3 * NC + j, mask);
        }
    }

    @Override
    public String describe() {
        return "Vector API GEMM (" + S.vectorBitSize() + "-bit vectors, " + Parallel.THREADS + " threads; no BLAS library loaded)";
    }
}
