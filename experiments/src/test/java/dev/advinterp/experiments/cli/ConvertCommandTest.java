package dev.advinterp.experiments.cli;

import dev.advinterp.nn.io.HostTensor;
import dev.advinterp.nn.io.SafeTensors;
import dev.advinterp.nn.io.TorchCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConvertCommandTest {

    @TempDir
    Path dir;

    /** The nn module's fixtures (tools/fixtures/make_io_fixtures.py); Maven runs tests in the module's folder. */
    private static Path fixture(String name) {
        Path p = Path.of("").toAbsolutePath().resolveSibling("nn").resolve("src/test/resources/io").resolve(name);
        assertTrue(Files.isRegularFile(p), "fixture " + p + " is missing: run the tests from the repository with Maven");
        return p;
    }

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
    void convertsTheFixtureAndReportsWhatItWrote() throws IOException {
        Path out = dir.resolve("tiny.safetensors");
        Run r = run("convert", fixture("tiny.pth").toString(), out.toString());
        assertEquals(0, r.code(), r.err());
        LinkedHashMap<String, HostTensor> pth = TorchCheckpoint.read(fixture("tiny.pth"));
        long bytes = pth.values().stream().mapToLong(t -> t.data().length).sum();
        assertTrue(r.out().contains("tensors  " + pth.size() + "\n"), r.out());
        assertTrue(r.out().contains("bytes    " + bytes + " "), r.out());
        assertTrue(r.out().contains("F64 ×1, F32 ×") && r.out().contains("I64 ×1") && r.out().contains("BOOL ×1"), r.out());
        assertEquals(pth, SafeTensors.read(out));
        // The same bytes as the safetensors fixture written independently from Python.
        assertArrayEquals(Files.readAllBytes(fixture("tiny.safetensors")), Files.readAllBytes(out));
    }

    @Test
    void aForbiddenGlobalIsAOneLineErrorAndWritesNothing() {
        Path out = dir.resolve("x.safetensors");
        Run r = run("convert", fixture("forbidden_global.pth").toString(), out.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("forbidden_global.pth") && r.err().contains("'os.system'"), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void aMissingInputIsNamed() {
        Run r = run("convert", dir.resolve("absent.pth").toString(), dir.resolve("x.safetensors").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("absent.pth: no such file"), r.err());
    }

    @Test
    void anUnwritableOutputIsNamed() {
        Run r = run("convert", fixture("tiny.pth").toString(), dir.resolve("no/folder/x.safetensors").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("cannot write the output") && r.err().contains("does not exist"), r.err());
    }

    @Test
    void bothArgumentsAreRequired() {
        Run r = run("convert", "only.pth");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("OUT.safetensors"), r.err());
    }
}
