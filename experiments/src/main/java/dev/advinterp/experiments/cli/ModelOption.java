package dev.advinterp.experiments.cli;

import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.models.ModelFiles;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;

/**
 * {@code --model W} and, for a bare torchvision state dict ({@code .pth}, or safetensors without a
 * configuration), {@code --arch}, {@code --classes}, {@code --input-size} and {@code --layout}:
 * mixed into every command that loads a model.
 */
final class ModelOption {

    @Option(names = "--model", required = true, paramLabel = "W",
            description = "Weights: model.safetensors or checkpoint.safetensors of 'advinterp train', a file of 'advinterp convert', "
                    + "or a torchvision state dict (.pth or .safetensors) with --arch.")
    Path file;

    @Mixin
    BareModelOptions bare;

    ImageModel load() throws IOException {
        return ModelFiles.load(file, bare.bare());
    }

    /**
     * A short name of the model for reports: the file name without its extension, or the folder's
     * name for the model.safetensors and checkpoint.safetensors of a training run.
     */
    String name() {
        String n = file.getFileName().toString();
        int dot = n.lastIndexOf('.');
        String stem = dot > 0 ? n.substring(0, dot) : n;
        Path parent = file.toAbsolutePath().normalize().getParent();
        if ((stem.equals("model") || stem.equals("checkpoint")) && parent != null && parent.getFileName() != null) {
            return parent.getFileName().toString();
        }
        return stem;
    }
}
