package dev.advinterp.nn.io;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzz tests of the weight readers. The properties, on any bytes: the reader returns or throws one
 * of its documented exceptions (an {@link IOException}: {@link CheckpointFormatException} names the
 * file and the fault), never another exception and never a JVM crash; and it allocates no more
 * than the stated bound for the file's size. In the normal test run each replays its committed
 * inputs (src/test/resources/…/ReaderFuzzTestInputs/, the damaged files of the reliability issue
 * among them); with {@code -Dfuzz} it fuzzes (see the README's testing section).
 */
class ReaderFuzzTest {

    /** A .pth may hold expanded views: its tensors may take the file's bytes plus {@link TorchCheckpoint#EXPANSION_ALLOWANCE}. */
    @FuzzTest(maxDuration = "60s")
    void pth(byte[] bytes) throws IOException {
        check(bytes, ".pth", TorchCheckpoint.EXPANSION_ALLOWANCE, TorchCheckpoint::read);
    }

    /** A safetensors file's tensors are its bytes. */
    @FuzzTest(maxDuration = "60s")
    void safetensors(byte[] bytes) throws IOException {
        check(bytes, ".safetensors", 0, SafeTensors::read);
    }

    /**
     * A model weight file: read, checked against its configuration, built and loaded. Building is
     * bounded too: a file must hold as many values as the model it describes has parameters.
     */
    @FuzzTest(maxDuration = "60s")
    void modelFile(byte[] bytes) throws IOException {
        check(bytes, ".safetensors", 0, f -> {
            try (var m = dev.advinterp.nn.models.ModelFiles.load(f)) {
                return m.config();
            } catch (IllegalArgumentException expected) {
                assertTrue(expected.getMessage() != null && expected.getMessage().contains(f.toString()), "an error names the file: " + expected.getMessage());
                return null;
            }
        });
    }

    interface Reader {
        Object read(Path file) throws IOException;
    }

    /**
     * Reads {@code bytes} as a file; allocation may reach 8 × the file, plus {@code allowance}, plus
     * 16 MiB of fixed overhead. The read is done twice and the second is measured, so that what a
     * first call initialises once (classes, the CPU backend) is not counted against the file.
     */
    static void check(byte[] bytes, String suffix, long allowance, Reader reader) throws IOException {
        Path f = Files.createTempFile("fuzz", suffix);
        try {
            Files.write(f, bytes);
            long used = 0;
            for (int round = 0; round < 2; round++) {
                long before = allocated();
                try {
                    reader.read(f);
                } catch (IOException expected) {
                    assertTrue(expected.getMessage() != null && expected.getMessage().contains(f.toString()),
                            "an error names the file: " + expected.getMessage());
                }
                used = allocated() - before;
            }
            long bound = 8L * bytes.length + allowance + (16L << 20);
            assertTrue(used <= bound, "allocated " + used + " bytes for a file of " + bytes.length + " (bound " + bound + ")");
        } finally {
            Files.deleteIfExists(f);
        }
    }

    static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }
}
