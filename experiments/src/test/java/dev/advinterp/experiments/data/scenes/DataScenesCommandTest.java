package dev.advinterp.experiments.data.scenes;

import dev.advinterp.experiments.cli.Main;
import dev.advinterp.experiments.data.broden.BrodenDataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code advinterp data scenes} end to end, through the same command line the launcher runs. */
class DataScenesCommandTest {

    @TempDir
    Path dir;

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void generatesADatasetTheReaderReads() {
        Path out = dir.resolve("scenes");
        Run r = run("data", "scenes", "--out", out.toString(), "--images", "40", "--size", "32", "--seed", "3", "--val-fraction", "0.5");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("40/40 images (100%)"), r.out());
        assertTrue(r.out().contains("images/s)"), r.out());
        BrodenDataset d = BrodenDataset.open(out);
        assertEquals(40, d.size());
        assertEquals(16, d.entry(0).sh());
        assertEquals(40, d.classification("train").size() + d.classification("val").size());
    }

    @Test
    void aNonEmptyFolderIsRefusedWithoutForce() throws IOException {
        Path out = dir.resolve("scenes");
        assertEquals(0, run("data", "scenes", "--out", out.toString(), "--images", "10", "--size", "32").code());
        Run r = run("data", "scenes", "--out", out.toString(), "--images", "10", "--size", "32");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("is not empty") && r.err().contains("--force"), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        Run forced = run("data", "scenes", "--out", out.toString(), "--images", "12", "--size", "32", "--force");
        assertEquals(0, forced.code(), forced.err());
        assertEquals(12, BrodenDataset.open(out).size());
        assertEquals(13, Files.readAllLines(out.resolve("index.csv")).size());
    }

    /** --force once deleted everything in the folder, notes and results of other runs included. */
    @Test
    void forceRefusesAFolderHoldingFilesTheGeneratorDoesNotWrite() throws IOException {
        Path out = dir.resolve("scenes");
        assertEquals(0, run("data", "scenes", "--out", out.toString(), "--images", "10", "--size", "32").code());
        Files.createDirectories(out.resolve("runs"));
        Files.writeString(out.resolve("runs/notes.txt"), "mine");
        Files.writeString(out.resolve("my_results.csv"), "also mine");
        Run r = run("data", "scenes", "--out", out.toString(), "--images", "12", "--size", "32", "--force");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("my_results.csv") && r.err().contains("runs/notes.txt") && r.err().contains("never other files"), r.err());
        assertEquals("mine", Files.readString(out.resolve("runs/notes.txt")));
        assertEquals("also mine", Files.readString(out.resolve("my_results.csv")));
        assertEquals(10, BrodenDataset.open(out).size(), "the dataset is left as it was");
    }

    @Test
    void aBadOptionIsOneLineNamingIt() {
        Run r = run("data", "scenes", "--out", dir.resolve("x").toString(), "--size", "33");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--size"), r.err());
        assertFalse(Files.exists(dir.resolve("x")));
    }

    @Test
    void dataAloneListsItsSubcommands() {
        Run r = run("data");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("scenes"), r.out());
    }
}
