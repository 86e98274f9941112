package dev.advinterp.experiments.cli;

import dev.advinterp.engine.backend.cuda.CudaBackend;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DoctorCommandTest {

    /** The doctor writes to System.out: capture it for one run. */
    private static String doctor() {
        PrintStream saved = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            System.setOut(ps);
            assertEquals(0, Main.commandLine().execute("doctor", "--gemm-size", "64"));
        } finally {
            System.setOut(saved);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void theCudaSectionNamesEveryLibraryAndWhetherTheBackendOpens() {
        String out = doctor();
        assertTrue(out.contains("CUDA libraries"), out);
        for (String lib : new String[]{"libcuda.so.1", "libcublas.so.", "libcudnn.so.9"}) {
            assertTrue(out.contains(lib), "the report should say where " + lib + " is or that it is missing:\n" + out);
        }
        Optional<String> reason = CudaBackend.unavailableReason();
        if (reason.isPresent()) {
            assertTrue(out.contains("CUDA backend   cannot be used: " + reason.get()), out);
            assertTrue(out.contains("not found"), out);
        } else {
            assertTrue(out.contains("CUDA backend   opens on GPU 0: "), out);
        }
    }
}
