package dev.advinterp.nn.models;

/** Builds a model from its configuration. */
public final class Models {
    private Models() {
    }

    public static ImageModel create(ModelConfig c) {
        return switch (c.arch()) {
            case ALEXNET -> new AlexNet(c);
            case VGG16, VGG16_BN -> new Vgg16(c);
            case RESNET18 -> new ResNet18(c);
        };
    }
}
