package dev.advinterp.engine.backend;

import dev.advinterp.engine.Tensor;

/** Batch normalisation in training and evaluation mode: see {@link Backend#batchNormTrainForward} and the three after it. */
public interface BatchNormKernels extends KernelFamily {

    void trainForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, float momentum, float eps,
                      Tensor y, Tensor saveMean, Tensor saveInvStd);

    void inferenceForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, float eps, Tensor y);

    void trainBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd, float eps, Tensor dx, Tensor dgamma,
                       Tensor dbeta);

    void inferenceBackward(Tensor x, Tensor dy, Tensor gamma, Tensor runningMean, Tensor runningVar, float eps, Tensor dx,
                           Tensor dgamma, Tensor dbeta);
}
