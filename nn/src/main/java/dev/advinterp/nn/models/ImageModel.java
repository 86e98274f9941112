package dev.advinterp.nn.models;

import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.Module;
import dev.advinterp.nn.layers.Normalize;

/**
 * A classifier of images in [0, 1]: its input normalisation comes first, then the
 * architecture's layers. {@link #phiLayer()} names the layer φ of the paper (the last
 * convolutional layer after its ReLU), for {@link dev.advinterp.nn.Activations}.
 */
public abstract class ImageModel extends Module {
    private final ModelConfig config;
    private final Normalize normalize;

    protected ImageModel(ModelConfig config) {
        this.config = config;
        // Not a registered child: it has no state, and torchvision's key set must stay as it is.
        this.normalize = new Normalize(config.mean(), config.std());
        adoptConstants(normalize);
    }

    public final ModelConfig config() {
        return config;
    }

    /** The path of the paper's layer φ. */
    public abstract String phiLayer();

    /** Logits for images {@code [n, c, h, w]} in [0, 1]. */
    @Override
    protected final Tensor forward(Tensor images) {
        if (images.rank() != 4 || images.dim(1) != config.inChannels()) {
            throw new IllegalArgumentException(config + " takes images [n, " + config.inChannels() + ", h, w], got " + images.shape());
        }
        return logits(normalize.call(images));
    }

    /** The architecture's layers on normalised input. */
    protected abstract Tensor logits(Tensor x);
}
