package dev.advinterp.experiments.cli;

import dev.advinterp.experiments.run.RunFolder;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** {@code --resume} and {@code --force} of every command that writes a run folder ({@link RunFolder}). */
final class ResumeOptions {

    @Option(names = "--resume", description = "Continue the run --out holds (the same settings are required).")
    boolean resume;

    @Option(names = "--force", description = "Start over in an --out that holds a run (the files this command writes there are deleted).")
    boolean force;

    RunFolder open(Path out, String kind, Map<String, Object> settings, List<String> outputs) throws IOException {
        return RunFolder.open(out, kind, settings, outputs, resume, force);
    }
}
