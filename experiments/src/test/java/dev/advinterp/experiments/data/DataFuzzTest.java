package dev.advinterp.experiments.data;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.advinterp.experiments.data.broden.BrodenDataset;
import dev.advinterp.experiments.io.ImageCodec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzz tests of the data readers: the Broden tables, the IDX files of Fashion-MNIST and the image
 * decoders. The properties, on any bytes: the reader returns or throws its documented exceptions,
 * whose message names the file (IOException for files; IllegalArgumentException, or
 * UncheckedIOException, for a Broden folder whose tables are malformed), never another exception
 * and never a JVM crash; and its allocation stays within the stated bound for the file's size. In
 * the normal run each replays its committed inputs (src/test/resources/…/DataFuzzTestInputs/);
 * with {@code -Dfuzz} it fuzzes (see the README).
 */
class DataFuzzTest {

    /** index.csv of a Broden folder whose other tables are well formed. */
    @FuzzTest(maxDuration = "60s")
    void brodenIndex(byte[] bytes) throws IOException {
        Path dir = Files.createTempDirectory("fuzz-broden");
        try {
            Files.createDirectories(dir.resolve("images"));
            Files.writeString(dir.resolve("category.csv"), "name,first,last,count,frequency\ncolor,1,2,2,1\nscene,3,3,1,1\n");
            Files.writeString(dir.resolve("label.csv"), "number,name,category,frequency,coverage,syns\n1,red,color(1),1,0.5,\n2,blue,color(1),1,0.5,\n"
                    + "3,beach,scene(1),1,1.0,\n");
            Files.writeString(dir.resolve("c_color.csv"), "code,number,name,frequency,coverage\n1,1,red,1,0.5\n2,2,blue,1,0.5\n");
            Files.writeString(dir.resolve("c_scene.csv"), "code,number,name,frequency,coverage\n1,3,beach,1,1.0\n");
            Files.write(dir.resolve("index.csv"), bytes);
            bounded(bytes.length, 32L << 20, () -> {
                try {
                    BrodenDataset d = BrodenDataset.open(dir);
                    for (int i = 0; i < Math.min(d.size(), 3); i++) d.load(i);
                } catch (IllegalArgumentException | IllegalStateException | UncheckedIOException expected) {
                    String m = expected.getMessage();
                    assertTrue(m != null && m.contains(dir.toString()), "an error names the folder or file: " + m);
                }
            });
        } finally {
            try (var s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    /** An IDX file of images (3 dimensions); its data may take the bytes it decompresses to, at most {@code IdxFile.MAX_BYTES}. */
    @FuzzTest(maxDuration = "60s")
    void idx(byte[] bytes) throws IOException {
        Path f = Files.createTempFile("fuzz", ".idx3");
        try {
            Files.write(f, bytes);
            bounded(bytes.length, IdxFile.MAX_BYTES, () -> {
                try {
                    IdxFile.read(f, 3);
                } catch (IOException expected) {
                    assertTrue(expected.getMessage() != null && expected.getMessage().contains(f.toString()), "names the file: " + expected.getMessage());
                }
            });
        } finally {
            Files.deleteIfExists(f);
        }
    }

    /** An image file through both decoding paths, each bounded by {@link ImageCodec#BYTES_PER_PIXEL} × {@link ImageCodec#MAX_PIXELS}. */
    @FuzzTest(maxDuration = "60s")
    void image(byte[] bytes) throws IOException {
        Path f = Files.createTempFile("fuzz", ".img");
        try {
            Files.write(f, bytes);
            long perDecode = ImageCodec.BYTES_PER_PIXEL * ImageCodec.MAX_PIXELS;
            bounded(bytes.length, perDecode, () -> {
                try {
                    RgbImage.read(f);
                } catch (IOException expected) {
                    assertTrue(expected.getMessage() != null && expected.getMessage().contains(f.toString()), "names the file: " + expected.getMessage());
                }
            });
            bounded(bytes.length, perDecode, () -> {
                try {
                    ImageCodec.decode(bytes);
                } catch (IOException expected) {
                    assertTrue(expected.getMessage() != null, "a reason");
                }
            });
        } finally {
            Files.deleteIfExists(f);
        }
    }

    interface Body {
        void run() throws IOException;
    }

    /** Runs {@code body} twice and holds the second run's allocation to 8 × the file, plus {@code allowance}, plus 16 MiB. */
    static void bounded(int fileBytes, long allowance, Body body) throws IOException {
        long used = 0;
        for (int round = 0; round < 2; round++) {
            long before = allocated();
            body.run();
            used = allocated() - before;
        }
        long bound = 8L * fileBytes + allowance + (16L << 20);
        assertTrue(used <= bound, "allocated " + used + " bytes for " + fileBytes + " bytes of input (bound " + bound + ")");
    }

    static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }
}
