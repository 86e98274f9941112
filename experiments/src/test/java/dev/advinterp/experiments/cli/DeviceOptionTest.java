package dev.advinterp.experiments.cli;

import dev.advinterp.engine.backend.Backend;
import dev.advinterp.engine.backend.Backends;
import dev.advinterp.engine.backend.cuda.CudaBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code --device} on the commands that compute: parsing, the line that says which device, and CUDA refused with its reason. */
class DeviceOptionTest {

    private Backend before;

    @BeforeEach
    void remember() {
        before = Backends.defaultBackend();
    }

    /** A command that chose a device changes the process default; the other tests keep theirs. */
    @AfterEach
    void restore() {
        Backends.setDefault(before);
    }

    private static Optional<String> noGpu() {
        Optional<String> reason = CudaBackend.unavailableReason();
        assumeTrue(reason.isPresent(), "CUDA is usable here: the no-GPU paths are not exercised");
        return reason;
    }

    @Test
    void everyCommandThatComputesTakesDeviceDefaultingToAuto() {
        for (String command : new String[]{"train", "attack", "demo", "memory"}) {
            // the help wraps at 80 columns: compare with the line breaks taken out
            String usage = Main.commandLine().getSubcommands().get(command).getUsageMessage().replaceAll("\\s+", " ");
            assertTrue(usage.contains("--device=cuda|cpu|auto"), command + " has no --device option:\n" + usage);
            assertTrue(usage.contains("(default: auto)"), command + " --device should default to auto:\n" + usage);
        }
    }

    @Test
    void anUnknownDeviceIsAOneLineErrorNamingIt() {
        CliRun r = CliRun.of("demo", "--device", "gpu", "--epochs", "1");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--device") && r.err().contains("'gpu'") && r.err().contains("cuda, cpu or auto"), r.err());
    }

    @Test
    void cpuIsChosenAndSaidOnStderr() {
        CliRun r = CliRun.of("memory", "--device", "cpu", "--arch", "alexnet", "--size", "32", "--batch", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("device: cpu (asked: cpu"), r.err());
    }

    @Test
    void autoWithoutAGpuComputesOnTheCpuAndSaysWhy() {
        String reason = noGpu().get();
        CliRun r = CliRun.of("memory", "--arch", "alexnet", "--size", "32", "--batch", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("device: cpu (asked: auto; CUDA unavailable: " + reason), r.err());
    }

    @Test
    void cudaWithoutAGpuEndsWithTheReasonAndWritesNothing(@TempDir Path dir) {
        noGpu();
        Path out = dir.resolve("run");
        CliRun r = CliRun.of("train", "--device", "cuda", "--arch", "alexnet", "--data", "scenes:" + dir.resolve("none"), "--out", out.toString());
        assertEquals(1, r.code(), r.err());
        // the reason is the backend's own words (CudaBackend.open's message): present, not echoed here
        assertTrue(r.err().matches("(?s).*advinterp: CUDA cannot be used: \\S.{10,}.*"), r.err());
        assertFalse(Files.exists(out), "nothing may be written when the device is refused");
        CliRun a = CliRun.of("attack", "--device", "cuda", "--model", dir.resolve("m.safetensors").toString(), "--data", "fashion-mnist",
                "--out", out.toString());
        assertEquals(1, a.code(), a.err());
        assertTrue(a.err().contains("CUDA cannot be used: "), a.err());
        assertFalse(Files.exists(out), "nothing may be written when the device is refused");
        assertEquals(1, CliRun.of("demo", "--device", "cuda").code());
        assertEquals(1, CliRun.of("memory", "--device", "cuda").code());
    }
}
