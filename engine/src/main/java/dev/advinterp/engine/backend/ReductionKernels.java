package dev.advinterp.engine.backend;

import dev.advinterp.engine.Tensor;

/** Sums and selections whose results come back to Java: see {@link Backend#sum}, {@link Backend#argmax}, {@link Backend#topk}. */
public interface ReductionKernels extends KernelFamily {

    double sum(Tensor x);

    void argmax(Tensor x, int rows, int cols, int[] out);

    void topk(Tensor x, int rows, int cols, int k, int[] indices, float[] values);
}
