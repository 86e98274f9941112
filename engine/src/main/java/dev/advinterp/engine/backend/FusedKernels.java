package dev.advinterp.engine.backend;

import dev.advinterp.engine.Tensor;

/**
 * The fused primitives the paper's training and attacks run on: the losses with their gradients
 * in one pass, and the in-place updates. See the methods of the same names on {@link Backend}.
 */
public interface FusedKernels extends KernelFamily {

    double softmaxCrossEntropy(Tensor logits, int rows, int cols, int[] labels, Tensor grad, float gradScale, float[] rowLosses);

    double featureMatching(Tensor a, Tensor b, Tensor gradA, Tensor gradB);

    void fgsmStep(Tensor x, Tensor grad, Tensor x0, float alpha, float eps, float[] lo, float[] hi);

    void sgdUpdate(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum, float dampening, float weightDecay,
                   boolean nesterov);

    void l2Step(Tensor x, Tensor grad, Tensor x0, int rows, int cols, float alpha, float eps, float lo, float hi);

    void l2AdamStep(Tensor x, Tensor grad, Tensor x0, Tensor m, Tensor v, int rows, int cols, double[] weights, float lr,
                    double beta1, double beta2, double epsilon, int step, float lo, float hi);
}
