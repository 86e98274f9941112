package dev.advinterp.bench;

import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.models.Architecture;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.models.ModelConfig;
import dev.advinterp.nn.models.Models;
import dev.advinterp.nn.optim.Sgd;

import java.util.SplittableRandom;

/**
 * A model benchmark's workload, named {@code <arch>-<size>-b<batch>} (for instance
 * {@code resnet18-32-b64}): the model, a batch of images in [0, 1] with labels, and an optimiser,
 * all made once so that a measured call does only the step. 224×224 is ImageNet's configuration
 * (1000 classes, torchvision's architecture); smaller sizes are the small-input configurations
 * with 10 classes. bench/torch_models.py parses the same names, so the two sides run the same
 * shapes.
 */
final class ModelWorkload implements AutoCloseable {
    static final float LR = 0.01f;

    final String name;
    final int size, batch;
    final ImageModel model;
    final Tensor images;
    final int[] labels;
    final Sgd sgd;

    private ModelWorkload(String name, Architecture arch, int size, int batch) {
        this.name = name;
        this.size = size;
        this.batch = batch;
        ModelConfig c = size >= 224 ? ModelConfig.imagenet(arch, 1) : ModelConfig.small(arch, 3, size, 10, 1);
        model = Models.create(c);
        images = Tensor.rand(2, 0f, 1f, batch, 3, size, size);
        SplittableRandom r = new SplittableRandom(3);
        labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = r.nextInt(c.classes());
        sgd = new Sgd(model.namedParameters(), Sgd.Options.defaults(LR));
    }

    static ModelWorkload parse(String name) {
        String[] p = name.split("-");
        if (p.length != 3 || !p[2].startsWith("b")) {
            throw new IllegalArgumentException("workload '" + name + "': expected <arch>-<size>-b<batch>, e.g. resnet18-32-b64");
        }
        return new ModelWorkload(name, Architecture.parse(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2].substring(1)));
    }

    @Override
    public void close() {
        sgd.close();
        images.close();
        model.close();
    }
}
