package dev.advinterp.experiments.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * A file of the IDX format (MNIST's): a magic number {@code 0x000008NN} for unsigned bytes in NN
 * dimensions, NN big-endian sizes, then the bytes in row-major order. Gzipped files are recognised
 * by their content, whatever their name.
 *
 * @param dims the sizes, outermost first
 * @param data the values, row-major
 */
record IdxFile(int[] dims, byte[] data) {

    private static final int UNSIGNED_BYTE = 0x08;
    /** The most data an IDX file may declare: a corrupt or hostile header cannot make the reader allocate more. */
    static final long MAX_BYTES = 256L << 20;

    /** Reads {@code file}, which must hold unsigned bytes in {@code dimensions} dimensions. */
    static IdxFile read(Path file, int dimensions) throws IOException {
        int expectedMagic = UNSIGNED_BYTE << 8 | dimensions;
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            raw.mark(2);
            boolean gzipped = raw.read() == 0x1f && raw.read() == 0x8b;
            raw.reset();
            DataInputStream in = new DataInputStream(gzipped ? new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16) : raw);
            int magic = in.readInt();
            if (magic != expectedMagic) {
                throw new IOException(String.format("%s: IDX magic number 0x%08X, expected 0x%08X (unsigned bytes in %d dimensions)%s",
                        file, magic, expectedMagic, dimensions, hint(magic, dimensions)));
            }
            int[] dims = new int[dimensions];
            long total = 1;
            for (int d = 0; d < dimensions; d++) {
                dims[d] = in.readInt();
                if (dims[d] < 0) throw new IOException(file + ": IDX size " + d + " is negative (" + dims[d] + "); the header is corrupt");
                total *= dims[d];
                if (total > MAX_BYTES) {
                    throw new IOException(file + ": IDX sizes " + Arrays.toString(dims) + " declare " + total + " bytes, over the " + MAX_BYTES
                            + " an IDX file may hold (Fashion-MNIST's largest holds 47 MB); the header is corrupt");
                }
            }
            byte[] data = in.readNBytes((int) total);
            if (data.length < total) throw truncated(file, dims, total, data.length);
            if (in.read() != -1) {
                throw new IOException(file + ": more bytes than its header declares (" + Arrays.toString(dims) + ", " + total
                        + " bytes); the file is corrupt or not what its name says: get it again");
            }
            return new IdxFile(dims, data);
        } catch (EOFException e) {
            throw new IOException(file + ": the file ends early (" + e.getMessage() + "); it is truncated: get it again", e);
        } catch (ZipException e) {
            throw new IOException(file + ": corrupt gzip data (" + e.getMessage() + "): get the file again", e);
        }
    }

    private static String hint(int magic, int dimensions) {
        if ((magic >>> 16) == 0x1f8b) return "; it is gzipped twice";
        if ((magic & ~0xff) == UNSIGNED_BYTE << 8) {
            return "; it holds " + (magic & 0xff) + "-dimensional data (" + ((magic & 0xff) == 1 ? "labels" : "images") + "), "
                    + "so an image file and a label file may have been swapped";
        }
        return "; it is no IDX file of unsigned bytes";
    }

    private static IOException truncated(Path file, int[] dims, long total, int got) {
        return new IOException(file + ": holds " + got + " of the " + total + " bytes its header declares (" + Arrays.toString(dims)
                + "); it is truncated: get it again");
    }
}
