package dev.advinterp.experiments.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine;

/** {@code advinterp data}: making and checking datasets. */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = "Datasets: `data scenes` generates the synthetic Broden-format scenes set.",
        subcommands = {DataScenesCommand.class})
final class DataCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
