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

    /** Whether {@link #runSingleThreaded} confines calls to their calling threads. */
    default boolean canRunSingleThreaded() {
        return false;
    }

    /**
     * Runs {@code body}, during which each call runs on its calling thread alone, so that several
     * threads can each run their own GEMMs at once (one per core) without the library's own
     * threads competing for the same cores. Where {@link #canRunSingleThreaded} is false it just
     * runs {@code body}.
     */
    default void runSingleThreaded(Runnable body) {
        body.run();
    }
}
