package dev.advinterp.experiments.cli;

import dev.advinterp.nn.io.DType;
import dev.advinterp.nn.io.HostTensor;
import dev.advinterp.nn.io.SafeTensors;
import dev.advinterp.nn.io.TorchCheckpoint;
import dev.advinterp.nn.models.ModelConfig;
import dev.advinterp.nn.models.ModelFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.Callable;

/** {@code advinterp convert IN.pth OUT.safetensors}: PyTorch weights into the engine's checkpoint format. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Converts a PyTorch state dict saved with torch.save (a .pth zip, such as",
                "torchvision's weights) into a safetensors file, keeping the tensors' names,",
                "order, dtypes and shapes. Nothing in the .pth file is run: only tensors,",
                "storages and (Ordered)dicts are accepted, and anything else is refused by",
                "name. A checkpoint that wraps the weights under 'state_dict' or 'model' is",
                "accepted too. OUT is replaced atomically: a failed run leaves it as it was.",
                "With --arch, the weights are checked against that torchvision model and its configuration",
                "(architecture, classes, input size, layout, ImageNet normalisation) is written into OUT's",
                "metadata, so that attack, evaluate and consistency take OUT alone."})
final class ConvertCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "IN.pth", description = "the PyTorch checkpoint to read")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT.safetensors", description = "the safetensors file to write (replaced if it exists)")
    Path out;

    @Mixin
    BareModelOptions model;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (Files.exists(out) && Files.exists(in)) {
            try {
                if (Files.isSameFile(in, out)) throw new IllegalArgumentException("IN and OUT are the same file (" + in + "): choose another OUT");
            } catch (IOException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        }
        LinkedHashMap<String, HostTensor> tensors;
        try {
            tensors = TorchCheckpoint.read(in);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot convert: " + e.getMessage(), e);
        }
        // "format": "pt" is what other safetensors readers expect of weights that came from PyTorch.
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        ModelFiles.Bare bare = model.bare();
        ModelConfig config = bare == null ? null : ModelFiles.checkedConfig(tensors, bare, in.toString());
        if (config != null) meta.putAll(config.toMetadata());
        try {
            SafeTensors.write(out, tensors, meta);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot write the output: " + e.getMessage(), e);
        }
        long bytes = 0;
        Map<DType, Integer> counts = new EnumMap<>(DType.class);
        for (HostTensor t : tensors.values()) {
            bytes += t.data().length;
            counts.merge(t.dtype(), 1, Integer::sum);
        }
        StringJoiner dtypes = new StringJoiner(", ");
        counts.forEach((d, n) -> dtypes.add(d + " ×" + n));
        PrintWriter o = spec.commandLine().getOut();
        line(o, "read", in.toString());
        line(o, "tensors", String.valueOf(tensors.size()));
        line(o, "bytes", bytes + " (" + human(bytes) + ")");
        line(o, "dtypes", counts.isEmpty() ? "none" : dtypes.toString());
        if (config != null) line(o, "model", config.toString());
        line(o, "wrote", out.toString());
        o.flush();
        return 0;
    }

    private static void line(PrintWriter o, String key, String value) {
        o.printf("%-8s %s%n", key, value);
    }

    private static String human(long bytes) {
        if (bytes < 1024) return bytes + " B";
        if (bytes < 1024 * 1024) return String.format("%.1f KiB", bytes / 1024.0);
        if (bytes < 1024L * 1024 * 1024) return String.format("%.1f MiB", bytes / (1024.0 * 1024));
        return String.format("%.2f GiB", bytes / (1024.0 * 1024 * 1024));
    }
}
