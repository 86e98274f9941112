package dev.advinterp.nn.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A checkpoint file that cannot be read as what it claims to be: truncated, corrupt, or holding
 * something this reader refuses (an unknown dtype, a pickle global outside the allow-list). The
 * message starts with the file, so it can be shown to a person as it is.
 */
public final class CheckpointFormatException extends IOException {

    private final transient Path file;

    public CheckpointFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public CheckpointFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The file that could not be read. */
    public Path file() {
        return file;
    }
}
