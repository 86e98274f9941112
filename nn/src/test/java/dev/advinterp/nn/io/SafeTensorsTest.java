package dev.advinterp.nn.io;

import dev.advinterp.engine.io.AtomicFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafeTensorsTest {

    @TempDir
    Path dir;

    private static LinkedHashMap<String, HostTensor> sample() {
        LinkedHashMap<String, HostTensor> m = new LinkedHashMap<>();
        m.put("conv.weight", HostTensor.ofFloats(new float[]{1, 2, 3, 4, 5, 6}, 2, 3));
        m.put("bn.num_batches_tracked", HostTensor.ofLongs(new long[]{7}));
        m.put("mask", new HostTensor(DType.BOOL, new long[]{3}, new byte[]{1, 0, 1}));
        m.put("empty", HostTensor.ofFloats(new float[0], 0, 4));
        return m;
    }

    @Test
    void roundTripKeepsOrderValuesAndMetadata() throws IOException {
        Path f = dir.resolve("m.safetensors");
        SafeTensors.write(f, sample(), Map.of("format", "pt"));
        LinkedHashMap<String, HostTensor> back = SafeTensors.read(f);
        assertEquals(List.copyOf(sample().keySet()), List.copyOf(back.keySet()));
        assertEquals(sample(), back);
        SafeTensorsHeader h = SafeTensors.readHeader(f);
        assertEquals(Map.of("format", "pt"), h.metadata());
        assertEquals(0, h.dataStart() % 8, "the data section starts 8-byte aligned");
        assertArrayEquals(new long[]{}, h.tensors().get("bn.num_batches_tracked").shape());
    }

    @Test
    void headerIsCompactJsonPaddedWithSpacesAsTheReferenceWritesIt() throws IOException {
        Path f = dir.resolve("one.safetensors");
        LinkedHashMap<String, HostTensor> m = new LinkedHashMap<>();
        m.put("w", HostTensor.ofFloats(new float[]{1, 2}, 2));
        SafeTensors.write(f, m, Map.of("k", "v"));
        byte[] bytes = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        String json = "{\"__metadata__\":{\"k\":\"v\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        assertEquals(json + " ".repeat((int) n - json.length()), header);
        assertEquals(0, n % 8);
        assertEquals(8 + n + 8, bytes.length);
    }

    @Test
    void writesExactlyTheBytesOfTheFixtureWrittenFromPython() throws IOException {
        Path fixture = Fixtures.resource("tiny.safetensors");
        LinkedHashMap<String, HostTensor> tensors = SafeTensors.read(fixture);
        Path f = dir.resolve("again.safetensors");
        SafeTensors.write(f, tensors, SafeTensors.readHeader(fixture).metadata());
        assertArrayEquals(Files.readAllBytes(fixture), Files.readAllBytes(f));
    }

    // ---- corrupt input: every message names the file and what is wrong ----

    private Path truncatedFixture(long length) throws IOException {
        byte[] all = Files.readAllBytes(Fixtures.resource("tiny.safetensors"));
        Path f = dir.resolve("truncated-" + length + ".safetensors");
        Files.write(f, Arrays.copyOf(all, (int) length));
        return f;
    }

    private static String failure(Path f) {
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> SafeTensors.read(f));
        assertTrue(e.getMessage().startsWith(f.toString()), "message names the file: " + e.getMessage());
        assertEquals(f, e.file());
        return e.getMessage();
    }

    @Test
    void truncatedAtEveryStageIsReportedClearly() throws IOException {
        long size = Files.size(Fixtures.resource("tiny.safetensors"));
        long n = SafeTensors.readHeader(Fixtures.resource("tiny.safetensors")).dataStart() - 8;
        assertTrue(failure(truncatedFixture(0)).contains("too short"));
        assertTrue(failure(truncatedFixture(5)).contains("too short"));
        assertTrue(failure(truncatedFixture(8)).contains("header length " + n + " goes beyond the end of the file"));
        assertTrue(failure(truncatedFixture(8 + n / 2)).contains("goes beyond the end of the file"));
        for (long cut : new long[]{8 + n, 8 + n + 1, size / 2 + n / 2, size - 1}) {
            String m = failure(truncatedFixture(cut));
            assertTrue(m.contains("go beyond the end of the data") && m.contains("truncated"), m);
        }
    }

    private Path raw(String name, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path f = dir.resolve(name);
        Files.write(f, b.array());
        return f;
    }

    @Test
    void badJsonNamesTheByteOffset() throws IOException {
        String header = "{\"a\":{\"dtype\":\"F32\" \"shape\":[1],\"data_offsets\":[0,4]}}";
        String m = failure(raw("bad.safetensors", header, 4));
        int at = 8 + header.indexOf(" \"shape\"") + 1;
        assertTrue(m.contains("bad JSON in the header at byte " + at + " of the file"), m);
        assertTrue(m.contains("expected ',' or '}'"), m);
    }

    @Test
    void everyInconsistentHeaderIsRefused() throws IOException {
        record Case(String header, int data, String expected) {
        }
        List<Case> cases = List.of(
                new Case("[1,2]", 0, "not an object"),
                new Case("{\"a\":{\"dtype\":\"F32\",\"shape\":[250],\"data_offsets\":[0,1000]}}", 4, "go beyond the end of the data"),
                new Case("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap"),
                new Case("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "a gap of 4 bytes before tensor 'a'"),
                new Case("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 12, "8 bytes after the last tensor"),
                new Case("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "hold 8 bytes, but a F32 tensor of shape [3] needs 12"),
                new Case("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8, "end before they begin"),
                new Case("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "unknown dtype 'F8_E4M3'"),
                new Case("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "duplicate key \"a\""),
                new Case("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "non-negative integers"),
                new Case("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "non-negative integers"),
                new Case("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "must have 2 elements"),
                new Case("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "\"dtype\" is missing"),
                new Case("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "\"shape\" is missing"),
                new Case("{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999,99999999999],\"data_offsets\":[0,4]}}", 4, "too large"),
                new Case("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,18446744073709551616]}}", 4, "below 2^63"),
                new Case("{\"a\":7}", 0, "expected an object with dtype"),
                new Case("{\"__metadata__\":{\"k\":1}}", 0, "must be a string"),
                new Case("{\"__metadata__\":[]}", 0, "must be an object of strings"),
                new Case("{\"a\":\"\\ud800\"}", 0, "unpaired surrogate"),
                new Case("{\"a\":\"x", 0, "unterminated string"),
                new Case("{} x", 0, "after the end of the JSON value"),
                new Case("[".repeat(100), 0, "nesting deeper"));
        int i = 0;
        for (Case c : cases) {
            String m = failure(raw("case" + i++ + ".safetensors", c.header(), c.data()));
            assertTrue(m.contains(c.expected()), "for header " + c.header() + ": " + m);
        }
    }

    @Test
    void invalidUtf8InANameIsRefused() throws IOException {
        byte[] h = "{\"\u00e9\":{}}".getBytes(StandardCharsets.UTF_8);
        h[3] = (byte) 0xC3; // a lead byte followed by '"' is malformed UTF-8
        h[4] = (byte) '"';
        Path f = dir.resolve("utf8.safetensors");
        ByteBuffer b = ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h);
        Files.write(f, b.array());
        assertTrue(failure(f).contains("UTF-8"));
    }

    @Test
    void hugeHeaderLengthIsRefusedBeforeAllocating() throws IOException {
        Path f = dir.resolve("huge.safetensors");
        Files.write(f, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L).array());
        assertTrue(failure(f).contains("header length 18446744073709551615 is over"));
    }

    @Test
    void aMissingFileIsAnIoErrorNamingIt() {
        Path f = dir.resolve("absent.safetensors");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> SafeTensors.read(f));
        assertTrue(e.getMessage().contains("absent.safetensors"));
    }

    // ---- atomic write ----

    private List<Path> filesIn(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.sorted().toList();
        }
    }

    @Test
    void overwritingReplacesTheWholeFileAndLeavesNoTemporaryFile() throws IOException {
        Path f = dir.resolve("m.safetensors");
        Files.write(f, new byte[100_000]);
        SafeTensors.write(f, sample());
        assertEquals(sample(), SafeTensors.read(f));
        assertEquals(List.of(f), filesIn(dir));
    }

    @Test
    void aFailedRenameLeavesTheTargetAndNoTemporaryFile() throws IOException {
        Path target = dir.resolve("occupied");
        Files.createDirectory(target);
        Files.writeString(target.resolve("keep.txt"), "keep");
        IOException e = assertThrows(IOException.class, () -> SafeTensors.write(target, sample()));
        assertTrue(e.getMessage().contains("occupied"), e.getMessage());
        assertEquals(List.of(target), filesIn(dir));
        assertEquals("keep", Files.readString(target.resolve("keep.txt")));
    }

    @Test
    void aFailureWhileWritingLeavesTheOldFileUntouched() throws IOException {
        Path f = dir.resolve("m.safetensors");
        SafeTensors.write(f, sample());
        byte[] before = Files.readAllBytes(f);
        IOException e = assertThrows(IOException.class, () -> AtomicFile.write(f, ch -> {
            ch.write(ByteBuffer.wrap(new byte[4096]));
            throw new IOException("No space left on device");
        }));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("unchanged"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(f));
        assertEquals(List.of(f), filesIn(dir));
    }

    @Test
    void invalidInputIsRefusedBeforeTheFileIsTouched() throws IOException {
        Path f = dir.resolve("m.safetensors");
        SafeTensors.write(f, sample());
        byte[] before = Files.readAllBytes(f);
        LinkedHashMap<String, HostTensor> bad = sample();
        bad.put("__metadata__", HostTensor.ofFloats(new float[]{1}, 1));
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(f, bad));
        LinkedHashMap<String, HostTensor> lone = sample();
        lone.put("x\ud800", HostTensor.ofFloats(new float[]{1}, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(f, lone));
        assertTrue(e.getMessage().contains("surrogate"));
        assertArrayEquals(before, Files.readAllBytes(f));
        assertEquals(List.of(f), filesIn(dir));
    }

    @Test
    void writingIntoAMissingFolderSaysSo() {
        Path f = dir.resolve("no/such/folder/m.safetensors");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> SafeTensors.write(f, sample()));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("no")));
    }
}
