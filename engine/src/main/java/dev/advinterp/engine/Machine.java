package dev.advinterp.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** The machine a run is on, in words for reports and benchmark tables. */
public final class Machine {
    private Machine() {
    }

    /** The CPU's model name as Linux reports it ({@code /proc/cpuinfo}); empty elsewhere. */
    public static Optional<String> cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return Optional.of(line.substring(line.indexOf(':') + 1).trim());
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return Optional.empty();
    }
}
