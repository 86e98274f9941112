package dev.advinterp.engine.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
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
 * any point removes the temporary file and leaves the target as it was, so a reader never sees a
 * half-written file under the target's name. Every file the project writes for a person or for a
 * later run (weights, checkpoints, tables, figures, reports) goes through here.
 *
 * <p>Temporaries are named {@code .<target>.<hex>.tmp}: hidden, unique per writer, and
 * recognisable, so that {@link #removeStaleTemporaries} can clear what a killed process left.
 */
public final class AtomicFile {

    /** Writes the whole content through the channel it is given. */
    @FunctionalInterface
    public interface Content {
        void writeTo(FileChannel channel) throws IOException;
    }

    /** Writes the whole content to a stream (buffered by the caller if it writes in small pieces). */
    @FunctionalInterface
    public interface StreamContent {
        void writeTo(OutputStream out) throws IOException;
    }

    private AtomicFile() {
    }

    public static void write(Path file, Content content) throws IOException {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new NoSuchFileException(file.toString(), null, "the folder to write it into does not exist");
        }
        if (Files.isDirectory(target)) throw new IOException(file + ": is a folder, cannot be replaced by a file");
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
            if (e instanceof IOException io && (io.getMessage() == null || !io.getMessage().contains(file.toString()))) {
                throw new IOException(file + ": could not be written (" + describe(io) + "); the previous file, if any, is unchanged", io);
            }
            throw e;
        }
        forceDirectory(dir);
    }

    /** Writes through an output stream (buffered here). */
    public static void writeStream(Path file, StreamContent content) throws IOException {
        write(file, (FileChannel ch) -> {
            OutputStream raw = Channels.newOutputStream(ch);
            java.io.BufferedOutputStream out = new java.io.BufferedOutputStream(raw, 1 << 16);
            content.writeTo(out);
            out.flush();
        });
    }

    public static void writeBytes(Path file, byte[] bytes) throws IOException {
        write(file, (FileChannel ch) -> {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) ch.write(b);
        });
    }

    public static void writeString(Path file, CharSequence text) throws IOException {
        writeBytes(file, text.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Copies a stream into place (an extracted library, a downloaded file). */
    public static void copy(InputStream in, Path file) throws IOException {
        writeStream(file, in::transferTo);
    }

    /**
     * Removes the temporaries that writers killed mid-write left in {@code dir} (not its
     * sub-folders) and returns how many. Only call it on a folder no other live process writes
     * to (a run folder under its lock): a live writer's temporary would be removed too.
     */
    public static int removeStaleTemporaries(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return 0;
        int removed = 0;
        try (var entries = Files.newDirectoryStream(dir, ".*.tmp")) {
            for (Path p : entries) {
                if (p.getFileName().toString().matches("\\..+\\.[0-9a-f]+\\.tmp") && Files.isRegularFile(p)) {
                    Files.deleteIfExists(p);
                    removed++;
                }
            }
        }
        return removed;
    }

    private static String describe(IOException e) {
        String m = e.getMessage();
        if (m != null && m.contains("No space left on device")) return "no space left on the device";
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    private static Path temporaryBeside(Path target) throws IOException {
        // Hidden and unique: a reader listing the folder never mistakes it for a result, and
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
