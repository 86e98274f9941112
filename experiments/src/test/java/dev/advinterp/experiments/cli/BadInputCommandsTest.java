package dev.advinterp.experiments.cli;

import dev.advinterp.nn.io.HostTensor;
import dev.advinterp.nn.io.SafeTensors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** What a new user met with damaged files and wrong options: each is now one line naming the file or option and the cause. */
class BadInputCommandsTest {
    @TempDir
    static Path dir;
    static Path scenes, run;

    @BeforeAll
    static void trainOneEpoch() {
        scenes = dir.resolve("scenes");
        assertEquals(0, CliRun.of("data", "scenes", "--out", scenes.toString(), "--images", "60", "--size", "32").code());
        run = dir.resolve("run");
        CliRun r = CliRun.of(train(run, "0.05"));
        assertEquals(0, r.code(), r.err());
    }

    static String[] train(Path out, String lr, String... more) {
        java.util.List<String> a = new java.util.ArrayList<>(java.util.List.of("train", "--arch", "resnet18", "--width", "0.125", "--data",
                "scenes:" + scenes, "--out", out.toString(), "--batch", "16", "--lr", lr));
        a.addAll(java.util.List.of(more));
        if (!a.contains("--epochs")) a.addAll(java.util.List.of("--epochs", "1"));
        return a.toArray(String[]::new);
    }

    @Test
    void aResumeWithOtherSettingsIsRefusedNamingThem() {
        CliRun r = CliRun.of(train(run, "0.1", "--resume", "--epochs", "2"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("lr: 0.05 then, 0.1 now"), r.err());
        r = CliRun.of(train(run, "0.05"));
        assertEquals(2, r.code(), "a second run into a folder holding one is not silently mixed in");
        assertTrue(r.err().contains("--resume continues it"), r.err());
    }

    @Test
    void zeroEpochsIsNamedAsSuch() {
        CliRun r = CliRun.of(train(dir.resolve("zero"), "0.05", "--epochs", "0"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--epochs must be at least 1"), r.err());
        assertFalse(Files.exists(dir.resolve("zero")), "nothing is written for a refused run");
    }

    @Test
    void anInfiniteEpsilonIsNamedAsAnOption() {
        CliRun r = CliRun.of("attack", "--model", run.resolve("model.safetensors").toString(), "--data", "scenes:" + scenes, "--out",
                dir.resolve("inf").toString(), "--eps", "Infinity");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--eps must be a finite number"), r.err());
        assertFalse(Files.exists(dir.resolve("inf")));
    }

    @Test
    void aFailedLoadCreatesNoOutputFolder() throws IOException {
        Path broken = Files.writeString(dir.resolve("broken.safetensors"), "not a safetensors file");
        Path out = dir.resolve("never");
        for (String command : new String[]{"attack", "evaluate", "consistency"}) {
            CliRun r = CliRun.of(command, "--model", broken.toString(), "--data", "scenes:" + scenes, "--out", out.toString());
            assertNotEquals(0, r.code(), command);
            assertTrue(r.err().contains("broken.safetensors"), r.err());
            assertFalse(Files.exists(out), command + " created " + out);
        }
    }

    @Test
    void aDamagedCheckpointFieldIsNamed() throws IOException {
        Path copy = dir.resolve("damaged");
        Files.createDirectories(copy);
        Path cp = run.resolve("checkpoint.safetensors");
        Map<String, String> meta = new LinkedHashMap<>(SafeTensors.readHeader(cp).metadata());
        meta.put("step", "garbage");
        LinkedHashMap<String, HostTensor> tensors = SafeTensors.read(cp);
        SafeTensors.write(copy.resolve("checkpoint.safetensors"), tensors, meta);
        Files.copy(run.resolve("settings.json"), copy.resolve("settings.json"));
        CliRun r = CliRun.of(train(copy, "0.05", "--resume", "--epochs", "2"));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("'step' is 'garbage', not a whole number") && r.err().contains("checkpoint.safetensors"), r.err());
    }

    @Test
    void controlCharactersFromFilesNeverReachTheTerminalRaw() throws IOException {
        Path m = run.resolve("model.safetensors");
        Map<String, String> meta = new LinkedHashMap<>(SafeTensors.readHeader(m).metadata());
        meta.put("arch", "\u001b[31mresnet18\u001b[0m");
        Path evil = dir.resolve("evil.safetensors");
        SafeTensors.write(evil, SafeTensors.read(m), meta);
        CliRun r = CliRun.of("evaluate", "--model", evil.toString(), "--data", "scenes:" + scenes, "--limit", "2");
        assertEquals(2, r.code());
        assertFalse(r.err().contains("\u001b"), "an escape sequence from the file reached the terminal: " + r.err());
        assertTrue(r.err().contains("\\u001b[31mresnet18"), r.err());
    }

    @Test
    void aFolderGivenForAFileIsNamed() {
        assertEquals("/tmp/x/y: is a directory", Main.describe(new java.nio.file.FileSystemException("/tmp/x/y", null, "Is a directory")));
        assertEquals("permission denied: /out", Main.describe(new java.nio.file.AccessDeniedException("/out")));
        assertEquals("/full/m.csv: no space left on device", Main.describe(new java.io.UncheckedIOException(
                new java.nio.file.FileSystemException("/full/m.csv", null, "No space left on device"))));
        CliRun r = CliRun.of("attack", "--model", dir.toString(), "--data", "scenes:" + scenes, "--out", dir.resolve("d").toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains(dir.toString()), r.err());
    }
}
