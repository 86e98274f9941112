package dev.advinterp.nn.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Replaces a file all at once: the content goes to a temporary file beside the target (same
 * folder, so same file system and the rename is atomic), is forced to disk, and is renamed over
 * the target; the folder is then forced so the rename itself survives a power cut. A failure at
 * any point removes the temporary file and leaves the target as it was.
 */
final class AtomicFile {

    /** Writes the whole content through the channel it is given. */
    interface Content {
        void writeTo(FileChannel channel) throws IOException;
    }

    private AtomicFile() {
    }

    static void write(Path file, Content content) throws IOException {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new NoSuchFileException(file.toString(), null, "the folder to write it into does not exist");
        }
        Path tmp = temporaryBeside(target);
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)) {
                content.writeTo(ch);
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException(file + ": this file system cannot rename atomically, so the file was not replaced", e);
            }
        } catch (IOException | RuntimeException | Error e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            if (e instanceof IOException io && !io.getMessage().contains(file.toString())) {
                throw new IOException(file + ": could not be written (" + io + "); the previous file, if any, is unchanged", io);
            }
            throw e;
        }
        forceDirectory(dir);
    }

    private static Path temporaryBeside(Path target) throws IOException {
        // Hidden and unique: a reader listing the folder never mistakes it for a checkpoint, and
        // two writers of the same target never share one.
        for (int attempt = 0; attempt < 100; attempt++) {
            Path tmp = target.resolveSibling("." + target.getFileName() + "."
                    + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1) + ".tmp");
            if (!Files.exists(tmp)) return tmp;
        }
        throw new FileAlreadyExistsException(target + ": could not find a free temporary name beside it");
    }

    private static void forceDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Some systems cannot open a folder for syncing; the rename has happened regardless.
        }
    }
}
