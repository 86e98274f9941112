package dev.advinterp.engine.backend;

import dev.advinterp.engine.Tensor;

/** Dense algebra: see {@link Backend#gemm}. */
public interface GemmKernels extends KernelFamily {

    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha, Tensor a, long aOffset, int lda,
              Tensor b, long bOffset, int ldb, float beta, Tensor c, long cOffset, int ldc);
}
