package dev.advinterp.experiments.cli;

import dev.advinterp.engine.backend.Backends;
import dev.advinterp.engine.backend.DeviceChoice;
import dev.advinterp.engine.backend.DeviceSelection;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code --device cuda|cpu|auto}, mixed into every command that computes. The command calls
 * {@link #apply()} first, before it reads data or builds a model: the chosen backend becomes the
 * root scope's device, where the tensor factories allocate outside any scope that names another,
 * so every parameter, batch and optimiser state lives on it. {@code cuda} on a machine where CUDA
 * cannot be used ends the command with the reason (a {@code DeviceUnavailableException}, which
 * {@link Main} prints) before anything is written.
 */
final class DeviceOption {

    @Option(names = "--device", paramLabel = "cuda|cpu|auto",
            description = "Where to compute: cuda, cpu, or auto (CUDA when a GPU and its libraries are usable, else the CPU) "
                    + "(default: ${DEFAULT-VALUE}).")
    String device = "auto";

    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    /** Chooses the backend, makes it the root scope's device, and says on stderr which one and why. */
    DeviceSelection apply() {
        DeviceChoice choice;
        try {
            choice = DeviceChoice.parse(device);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--device: " + e.getMessage(), e);
        }
        DeviceSelection s = Backends.useDevice(choice);
        spec.commandLine().getErr().println("device: " + s.describe());
        spec.commandLine().getErr().flush();
        return s;
    }
}
