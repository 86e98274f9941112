package dev.advinterp.engine.backend.cuda;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The row-major → column-major SGEMM mapping, run through a plain column-major reference SGEMM
 * with the BLAS argument conventions, against a row-major reference. This checks the index
 * arithmetic that the GPU path relies on without a GPU.
 */
class CublasMappingTest {

    /** BLAS sgemm, column-major: C = alpha·op(A)·op(B) + beta·C, A/B/C with offsets and leading dimensions. */
    static void columnMajorSgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                 float[] a, long aOff, int lda, float[] b, long bOff, int ldb,
                                 float beta, float[] c, long cOff, int ldc) {
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < m; i++) {
                double acc = 0;
                for (int p = 0; p < k; p++) {
                    float av = transA ? a[(int) (aOff + p + (long) i * lda)] : a[(int) (aOff + i + (long) p * lda)];
                    float bv = transB ? b[(int) (bOff + j + (long) p * ldb)] : b[(int) (bOff + p + (long) j * ldb)];
                    acc += (double) av * bv;
                }
                int idx = (int) (cOff + i + (long) j * ldc);
                c[idx] = (float) (alpha * acc + beta * c[idx]);
            }
        }
    }

    static void rowMajorReference(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                  float[] a, long aOff, int lda, float[] b, long bOff, int ldb,
                                  float beta, float[] c, long cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double acc = 0;
                for (int p = 0; p < k; p++) {
                    float av = transA ? a[(int) (aOff + (long) p * lda + i)] : a[(int) (aOff + (long) i * lda + p)];
                    float bv = transB ? b[(int) (bOff + (long) j * ldb + p)] : b[(int) (bOff + (long) p * ldb + j)];
                    acc += (double) av * bv;
                }
                int idx = (int) (cOff + (long) i * ldc + j);
                c[idx] = (float) (alpha * acc + beta * c[idx]);
            }
        }
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        return v;
    }

    @Test
    void mappedCallEqualsRowMajorGemmForAllTransposesOffsetsAndLeadingDimensions() {
        SplittableRandom r = new SplittableRandom(7);
        int[][] sizes = {{3, 5, 4}, {1, 7, 2}, {6, 1, 3}, {5, 4, 1}, {8, 9, 11}};
        for (int[] s : sizes) {
            int m = s[0], n = s[1], k = s[2];
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                for (int pad : new int[]{0, 3}) {
                    int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
                    int lda = aCols + pad, ldb = bCols + pad, ldc = n + pad;
                    long aOff = pad, bOff = 2L * pad, cOff = pad + 1L;
                    float[] a = random(r, (int) aOff + aRows * lda), b = random(r, (int) bOff + bRows * ldb);
                    float[] c0 = random(r, (int) cOff + m * ldc);
                    float[] want = c0.clone(), got = c0.clone();
                    rowMajorReference(ta, tb, m, n, k, 1.5f, a, aOff, lda, b, bOff, ldb, 0.5f, want, cOff, ldc);

                    Cublas.ColumnMajorCall call = Cublas.mapRowMajor(ta, tb, m, n, k, aOff, lda, bOff, ldb, cOff, ldc);
                    float[] first = call.firstIsEngineB() ? b : a, second = call.firstIsEngineB() ? a : b;
                    columnMajorSgemm(call.transFirst(), call.transSecond(), call.m(), call.n(), call.k(), 1.5f,
                            first, call.firstOffset(), call.ldFirst(), second, call.secondOffset(), call.ldSecond(),
                            0.5f, got, call.cOffset(), call.ldc());
                    for (int i = 0; i < want.length; i++) {
                        assertEquals(want[i], got[i], 1e-5f, "m=" + m + " n=" + n + " k=" + k + " transA=" + ta
                                + " transB=" + tb + " pad=" + pad + " at " + i);
                    }
                }
            }
        }
    }

    @Test
    void columnMajorLeadingDimensionsAreValidForCublas() {
        // cuBLAS requires lda ≥ max(1, rows of op-less A) in column-major terms; check the mapping keeps that
        // for a row-major 3×4 · 4×5 product with tight leading dimensions.
        Cublas.ColumnMajorCall call = Cublas.mapRowMajor(false, false, 3, 5, 4, 0, 4, 0, 5, 0, 5);
        assertEquals(5, call.m());
        assertEquals(3, call.n());
        assertEquals(4, call.k());
        assertEquals(5, call.ldFirst());   // B (4×5 row-major) is 5×4 column-major: ld ≥ m = 5
        assertEquals(4, call.ldSecond());  // A (3×4 row-major) is 4×3 column-major: ld ≥ k = 4
        assertEquals(5, call.ldc());       // C (3×5 row-major) is 5×3 column-major: ld ≥ m = 5
    }
}
