package dev.advinterp.nn.models;

/** Builds a model from its configuration. */
public final class Models {
    private Models() {
    }

    /**
     * The number of parameters (weights and biases, not buffers) the model of {@code c} has,
     * computed from the configuration without building it: so that a weight file can be checked to
     * hold them before anything is allocated. {@code ModelsTest} holds it against the built models.
     */
    public static long parameterCount(ModelConfig c) {
        return switch (c.arch()) {
            case RESNET18 -> resnet18(c);
            case ALEXNET -> alexnet(c);
            case VGG16, VGG16_BN -> vgg16(c);
        };
    }

    private static long resnet18(ModelConfig c) {
        boolean small = c.layout() == Layout.SMALL && c.inputSize() <= 64;
        long w1 = c.scaled(64), w2 = c.scaled(128), w3 = c.scaled(256), w4 = c.scaled(512), k = small ? 3 : 7;
        long n = w1 * c.inChannels() * k * k + 2 * w1;
        long[][] blocks = {{w1, w1}, {w1, w1}, {w1, w2}, {w2, w2}, {w2, w3}, {w3, w3}, {w3, w4}, {w4, w4}};
        for (long[] b : blocks) {
            long in = b[0], out = b[1];
            n += out * in * 9 + 2 * out + out * out * 9 + 2 * out;
            if (in != out) n += out * in + 2 * out; // the downsampling shortcut (every stride-2 block changes the width)
        }
        return n + w4 * c.classes() + c.classes();
    }

    private static long alexnet(ModelConfig c) {
        boolean adapt = c.layout() == Layout.SMALL, tiny = adapt && c.inputSize() < 64;
        long hidden = c.scaled(adapt && c.inputSize() < 224 ? 512 : 4096);
        long c1 = c.scaled(64), c2 = c.scaled(192), c3 = c.scaled(384), c4 = c.scaled(256), c5 = c.scaled(256), k = tiny ? 5 : 11;
        long n = c1 * c.inChannels() * k * k + c1 + c2 * c1 * 25 + c2 + c3 * c2 * 9 + c3 + c4 * c3 * 9 + c4 + c5 * c4 * 9 + c5;
        return n + c5 * 36 * hidden + hidden + hidden * hidden + hidden + hidden * c.classes() + c.classes();
    }

    private static long vgg16(ModelConfig c) {
        boolean bn = c.arch() == Architecture.VGG16_BN, adapt = c.layout() == Layout.SMALL;
        int[] cfg = {64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512};
        long n = 0, in = c.inChannels();
        for (int v : cfg) {
            long out = c.scaled(v);
            n += out * in * 9 + out + (bn ? 2 * out : 0);
            in = out;
        }
        boolean full = !adapt || c.inputSize() >= 224;
        long pool = full ? 7 : 1, hidden = c.scaled(full ? 4096 : 512);
        return n + in * pool * pool * hidden + hidden + hidden * hidden + hidden + hidden * c.classes() + c.classes();
    }

    public static ImageModel create(ModelConfig c) {
        return switch (c.arch()) {
            case ALEXNET -> new AlexNet(c);
            case VGG16, VGG16_BN -> new Vgg16(c);
            case RESNET18 -> new ResNet18(c);
        };
    }
}
