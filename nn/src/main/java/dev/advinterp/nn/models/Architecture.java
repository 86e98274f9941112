package dev.advinterp.nn.models;

/** The networks of the paper, as torchvision names them. */
public enum Architecture {
    ALEXNET("alexnet"), VGG16("vgg16"), VGG16_BN("vgg16_bn"), RESNET18("resnet18");

    private final String id;

    Architecture(String id) {
        this.id = id;
    }

    /** torchvision's name (also the CLI's). */
    public String id() {
        return id;
    }

    public static Architecture parse(String name) {
        for (Architecture a : values()) {
            if (a.id.equalsIgnoreCase(name) || a.name().equalsIgnoreCase(name)) return a;
        }
        throw new IllegalArgumentException("unknown architecture '" + name + "'; choose one of alexnet, vgg16, vgg16_bn, resnet18");
    }
}
