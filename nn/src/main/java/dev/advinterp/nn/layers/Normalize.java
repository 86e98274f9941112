package dev.advinterp.nn.layers;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.Module;

/**
 * Per-channel input normalisation {@code (x − mean[c]) / std[c]}, the first layer of every model
 * so that models take images in [0, 1] (attacks work in pixel space). Its constants are not part
 * of the state dict, which stays exactly torchvision's.
 */
public final class Normalize extends Module {
    /** ImageNet statistics used by torchvision's pretrained weights. */
    public static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f}, IMAGENET_STD = {0.229f, 0.224f, 0.225f};

    private final float[] mean, std;
    private final Tensor scale, shift;

    public Normalize(float[] mean, float[] std) {
        if (mean.length != std.length || mean.length == 0) {
            throw new IllegalArgumentException("Normalize: " + mean.length + " means and " + std.length + " stds");
        }
        this.mean = mean.clone();
        this.std = std.clone();
        float[] a = new float[mean.length], b = new float[mean.length];
        for (int c = 0; c < mean.length; c++) {
            if (!(std[c] > 0)) throw new IllegalArgumentException("Normalize: std[" + c + "] = " + std[c] + " must be positive");
            a[c] = (float) (1.0 / std[c]);
            b[c] = (float) (-mean[c] / (double) std[c]);
        }
        this.scale = constant(Tensor.of(a, a.length));
        this.shift = constant(Tensor.of(b, b.length));
    }

    public float[] mean() {
        return mean.clone();
    }

    public float[] std() {
        return std.clone();
    }

    @Override
    protected Tensor forward(Tensor x) {
        if (x.rank() != 4 || x.dim(1) != mean.length) {
            throw new IllegalArgumentException("model input must be [n, " + mean.length + ", h, w] images in [0, 1], got " + x.shape());
        }
        return Ops.channelAffine(x, scale, shift);
    }
}
