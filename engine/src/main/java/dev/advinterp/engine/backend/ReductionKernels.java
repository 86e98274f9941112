package dev.advinterp.engine.backend;

import dev.advinterp.engine.Tensor;

/**
 * Sums and selections: see {@link Backend#sum}, {@link Backend#argmax}, {@link Backend#topk}, whose
 * results come back to Java, and {@link Backend#rowNorms} with its gradient.
 */
public interface ReductionKernels extends KernelFamily {

    double sum(Tensor x);

    void argmax(Tensor x, int rows, int cols, int[] out);

    void topk(Tensor x, int rows, int cols, int k, int[] indices, float[] values);

    void rowNorms(Tensor x, int rows, int cols, Tensor out);

    void rowNormsBackward(Tensor x, Tensor norms, Tensor dy, int rows, int cols, Tensor dx);
}
