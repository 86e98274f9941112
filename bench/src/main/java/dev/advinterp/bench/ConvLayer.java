package dev.advinterp.bench;

import dev.advinterp.engine.backend.ConvGeometry;

import java.util.List;

/**
 * The distinct convolutions of ResNet-18 in its two input sizes: the ImageNet layout (batch 8 of
 * 3×224×224, as torchvision builds it) and the CIFAR layout (batch 64 of 3×32×32, a 3×3 stride-1
 * stem and no max-pool). Each stage's first block halves the resolution with a stride-2 3×3 and a
 * stride-2 1×1 downsample; the rest of the stage repeats one 3×3 shape.
 *
 * @param name     a short key, used as the JMH parameter value
 * @param geometry the convolution
 * @param imageNet whether it belongs to the 224×224 network (the one the FLOP target applies to)
 */
public record ConvLayer(String name, ConvGeometry geometry, boolean imageNet) {

    public static final List<ConvLayer> ALL = List.of(
            layer("i224.stem", 8, 3, 224, 64, 7, 2, 3, true),
            layer("i224.layer1", 8, 64, 56, 64, 3, 1, 1, true),
            layer("i224.layer2.0", 8, 64, 56, 128, 3, 2, 1, true),
            layer("i224.layer2", 8, 128, 28, 128, 3, 1, 1, true),
            layer("i224.layer2.ds", 8, 64, 56, 128, 1, 2, 0, true),
            layer("i224.layer3.0", 8, 128, 28, 256, 3, 2, 1, true),
            layer("i224.layer3", 8, 256, 14, 256, 3, 1, 1, true),
            layer("i224.layer3.ds", 8, 128, 28, 256, 1, 2, 0, true),
            layer("i224.layer4.0", 8, 256, 14, 512, 3, 2, 1, true),
            layer("i224.layer4", 8, 512, 7, 512, 3, 1, 1, true),
            layer("i224.layer4.ds", 8, 256, 14, 512, 1, 2, 0, true),
            layer("c32.stem", 64, 3, 32, 64, 3, 1, 1, false),
            layer("c32.layer1", 64, 64, 32, 64, 3, 1, 1, false),
            layer("c32.layer2.0", 64, 64, 32, 128, 3, 2, 1, false),
            layer("c32.layer2", 64, 128, 16, 128, 3, 1, 1, false),
            layer("c32.layer2.ds", 64, 64, 32, 128, 1, 2, 0, false),
            layer("c32.layer3.0", 64, 128, 16, 256, 3, 2, 1, false),
            layer("c32.layer3", 64, 256, 8, 256, 3, 1, 1, false),
            layer("c32.layer3.ds", 64, 128, 16, 256, 1, 2, 0, false),
            layer("c32.layer4.0", 64, 256, 8, 512, 3, 2, 1, false),
            layer("c32.layer4", 64, 512, 4, 512, 3, 1, 1, false),
            layer("c32.layer4.ds", 64, 256, 8, 512, 1, 2, 0, false));

    private static ConvLayer layer(String name, int n, int cIn, int hw, int cOut, int k, int stride, int pad, boolean imageNet) {
        return new ConvLayer(name, new ConvGeometry(n, cIn, hw, hw, cOut, k, k, stride, stride, pad, pad), imageNet);
    }

    public static ConvLayer named(String name) {
        for (ConvLayer l : ALL) {
            if (l.name.equals(name)) return l;
        }
        throw new IllegalArgumentException("no ResNet-18 convolution named '" + name + "'; known: "
                + ALL.stream().map(ConvLayer::name).toList());
    }

    /** {@code n×cIn×h×w → cOut, k×k/s} in the usual notation. */
    public String shape() {
        ConvGeometry g = geometry;
        return g.n() + "×" + g.cIn() + "×" + g.h() + "×" + g.w() + " → " + g.cOut() + ", " + g.kh() + "×" + g.kw()
                + (g.strideH() == 1 ? "" : "/" + g.strideH());
    }
}
