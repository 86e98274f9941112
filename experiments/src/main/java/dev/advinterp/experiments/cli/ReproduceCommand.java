package dev.advinterp.experiments.cli;

import dev.advinterp.engine.backend.DeviceSelection;
import dev.advinterp.engine.Device;
import dev.advinterp.experiments.run.Preset;
import dev.advinterp.experiments.run.ReproduceRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "reproduce", mixinStandardHelpOptions = true,
        description = {"The paper's study in one command: generates the scenes, trains AlexNet, VGG-16 and ResNet-18 normally and with the "
                + "consistent loss, measures all six (Tables 1-3, Figure 5, Figures 3-4) and writes report.md and report.html into --out.",
                "Started again with the same --out, it continues from its last finished stage. The default preset takes about a quarter of an hour "
                        + "on two CPU cores; see experiments/REPRODUCE.md. With --imagenet, --broden and --weights it measures torchvision's networks on ImageNet "
                        + "and Broden instead."})
final class ReproduceCommand implements Callable<Integer> {

    @Option(names = "--preset", description = "quick (a smoke run of about a minute), default (the study on 32 px scenes, about a quarter of an hour on "
            + "two CPU cores) or paper (full-width networks at 224 px, for a GPU). Default: default, or paper with --imagenet.")
    String preset;

    @Option(names = "--imagenet", paramLabel = "DIR", description = "The full-scale study: ImageNet in DIR/train/<wnid>/ and DIR/val/<wnid>/ "
            + "(with --broden and --weights). The normal models are torchvision's weights; the -Adv models are fine-tuned from them on a GPU only.")
    Path imagenet;

    @Option(names = "--broden", paramLabel = "DIR", description = "With --imagenet: the Broden folder to dissect on (NetDissect's broden1_224).")
    Path broden;

    @Option(names = "--weights", paramLabel = "DIR", description = "With --imagenet: a folder with torchvision's alexnet*.pth, vgg16-*.pth and "
            + "resnet18*.pth (read in Java; safetensors state dicts are taken too).")
    Path weights;

    @Option(names = "--out", description = "Output folder; an interrupted run started again with it continues (default: ${DEFAULT-VALUE}).")
    Path out = Path.of("reproduce");

    @Option(names = "--force", description = "Start over in an --out that holds another study (everything the study wrote there is deleted).")
    boolean force;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws IOException {
        boolean full = imagenet != null || broden != null || weights != null;
        if (full && (imagenet == null || broden == null || weights == null)) {
            throw new IllegalArgumentException("the full-scale study needs all three of --imagenet, --broden and --weights");
        }
        Preset p = Preset.of(preset != null ? preset : full ? "paper" : "default");
        DeviceSelection selection = device.apply();
        ReproduceRun.External external = full
                ? new ReproduceRun.External(imagenet, broden, weights, selection.backend().device() == Device.CUDA) : null;
        ReproduceRun.run(p, external, out, force, selection.describe(), System.out);
        return 0;
    }
}
