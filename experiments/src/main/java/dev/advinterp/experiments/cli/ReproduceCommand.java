package dev.advinterp.experiments.cli;

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
                "Started again with the same --out, it continues from its last finished stage. The default preset takes about half an hour "
                        + "on two CPU cores; see experiments/REPRODUCE.md."})
final class ReproduceCommand implements Callable<Integer> {

    @Option(names = "--preset", description = "quick (a smoke run of a few minutes), default (the study on 32 px scenes, about 30 minutes on "
            + "two CPU cores) or paper (full-width networks at 224 px, for a GPU) (default: ${DEFAULT-VALUE}).")
    String preset = "default";

    @Option(names = "--out", description = "Output folder; an interrupted run started again with it continues (default: ${DEFAULT-VALUE}).")
    Path out = Path.of("reproduce");

    @Option(names = "--force", description = "Start over in an --out that holds another study (everything the study wrote there is deleted).")
    boolean force;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws IOException {
        Preset p = Preset.of(preset);
        String where = device.apply().describe();
        ReproduceRun.run(p, out, force, where, System.out);
        return 0;
    }
}
