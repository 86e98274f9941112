package dev.advinterp.engine.backend.cpu;

import java.lang.foreign.MemorySegment;

/**
 * Row-major single-precision GEMM on raw host memory:
 * {@code C = alpha·op(A)·op(B) + beta·C}, op(A) m×k, op(B) k×n. Offsets are in floats.
 * Arguments are checked by the caller ({@link CpuBackend}).
 */
public interface Gemm {
    void sgemm(boolean transA, boolean transB, int m, int n, int k,
               float alpha, MemorySegment a, long aOffset, int lda,
               MemorySegment b, long bOffset, int ldb,
               float beta, MemorySegment c, long cOffset, int ldc);

    /** What runs the GEMM, for the doctor: library, version, core type, threads. */
    String describe();
}
