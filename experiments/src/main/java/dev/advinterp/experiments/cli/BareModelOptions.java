package dev.advinterp.experiments.cli;

import dev.advinterp.nn.models.Architecture;
import dev.advinterp.nn.models.Layout;
import dev.advinterp.nn.models.ModelFiles;
import picocli.CommandLine.Option;

/** What a bare torchvision state dict is: {@code --arch}, and {@code --classes}, {@code --input-size}, {@code --layout} where they differ. */
final class BareModelOptions {

    @Option(names = "--arch", description = "For a torchvision state dict: alexnet, vgg16, vgg16_bn or resnet18.")
    String arch;

    @Option(names = "--classes", description = "With --arch: the class count (default: the rows of the classifier's weight).")
    Integer classes;

    @Option(names = "--input-size", description = "With --arch: the side of the square input images (default: ${DEFAULT-VALUE}).")
    int inputSize = 224;

    @Option(names = "--layout", description = "With --arch: torchvision (default: the layers torchvision's weights were trained with) or small.")
    String layout;

    /** The description of the weights, or null without --arch (then the other options must not be given either). */
    ModelFiles.Bare bare() {
        if (arch == null) {
            if (classes != null || layout != null || inputSize != 224) {
                throw new IllegalArgumentException("--classes, --input-size and --layout describe a torchvision state dict; give --arch too");
            }
            return null;
        }
        return new ModelFiles.Bare(Architecture.parse(arch), classes, inputSize, layout == null ? null : Layout.parse(layout));
    }
}
