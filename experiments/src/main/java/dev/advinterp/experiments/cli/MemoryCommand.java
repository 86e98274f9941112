package dev.advinterp.experiments.cli;

import dev.advinterp.engine.Device;
import dev.advinterp.engine.backend.Backend;
import dev.advinterp.engine.memory.NativeMemory;
import dev.advinterp.nn.MemoryProfile;
import dev.advinterp.nn.models.Architecture;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.models.ModelConfig;
import dev.advinterp.nn.models.Models;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

/** {@code advinterp memory}: the memory a model needs, measured through the engine's statistics. */
@Command(name = "memory", mixinStandardHelpOptions = true,
        description = {"Measures the bytes of parameters, SGD momentum, kernel workspaces, and the peak of one training step",
                "and of one evaluation forward, for each model at the given batch and input size (a Markdown table),",
                "in the memory of the chosen device (host memory on the CPU, GPU memory on CUDA)."})
final class MemoryCommand implements Callable<Integer> {

    @Option(names = "--arch", split = ",", description = "Architectures (default: alexnet,vgg16,resnet18).")
    List<String> archs = List.of("alexnet", "vgg16", "resnet18");

    @Option(names = "--size", description = "Input size; 224 is torchvision's layout with 1000 classes, smaller sizes the "
            + "small-input configurations with 10 classes (default: ${DEFAULT-VALUE}).")
    int size = 224;

    @Option(names = "--batch", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch = 8;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() {
        // the models are made on the chosen backend, and MemoryProfile reads that backend's statistics
        Backend backend = device.apply().backend();
        System.err.println("memory: " + (backend.device() == Device.CUDA ? "GPU" : "host") + " memory, as the "
                + backend.device() + " backend's allocator counts it");
        if (batch <= 0) throw new IllegalArgumentException("--batch must be positive, got " + batch);
        System.out.println(MemoryProfile.markdownHeader());
        for (String a : archs) {
            Architecture arch = Architecture.parse(a);
            ModelConfig c = size >= 224 ? ModelConfig.imagenet(arch, 1) : ModelConfig.small(arch, 3, size, 10, 1);
            try (ImageModel m = Models.create(c)) {
                System.out.println(MemoryProfile.measure(m, batch).markdownRow());
            }
        }
        if (backend.device() == Device.CPU) System.err.println("memory: host cache " + NativeMemory.cacheStats().describe());
        return 0;
    }
}
