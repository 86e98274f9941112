package dev.advinterp.nn.models;

/**
 * How a model's layers are laid out for its input size.
 * <ul>
 *   <li>{@link #TORCHVISION}: exactly torchvision's layers at any input size (ResNet-18's 7×7
 *       stride-2 stem and max pool, AlexNet's 11×11 stride-4 convolution and 4096-unit
 *       classifier, VGG-16's 7×7 pooling and 4096-unit classifier), so torchvision weights load at
 *       any size the layers allow;</li>
 *   <li>{@link #SMALL}: the small-input adaptations each model documents (a 3×3 stride-1 stem
 *       for ResNet-18 at 64 px and below, a 5×5 first convolution for AlexNet below 64 px,
 *       512-unit classifiers and global pooling below 224 px). At 224 px and above they change
 *       nothing.</li>
 * </ul>
 * The default is {@link #forSize}: torchvision's at 224 px and above, the adaptations below.
 */
public enum Layout {
    TORCHVISION("torchvision"), SMALL("small");

    private final String id;

    Layout(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    /** The default layout for an input size. */
    public static Layout forSize(int inputSize) {
        return inputSize >= 224 ? TORCHVISION : SMALL;
    }

    public static Layout parse(String name) {
        for (Layout l : values()) if (l.id.equalsIgnoreCase(name)) return l;
        throw new IllegalArgumentException("unknown layout '" + name + "'; choose torchvision or small");
    }
}
