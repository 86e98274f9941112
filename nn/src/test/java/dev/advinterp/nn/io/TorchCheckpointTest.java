package dev.advinterp.nn.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TorchCheckpointTest {

    @TempDir
    Path dir;

    @Test
    void tinyCheckpointEqualsTheSafetensorsWrittenFromTheSameTensors() throws IOException {
        LinkedHashMap<String, HostTensor> pth = TorchCheckpoint.read(Fixtures.resource("tiny.pth"));
        LinkedHashMap<String, HostTensor> st = SafeTensors.read(Fixtures.resource("tiny.safetensors"));
        assertEquals(List.copyOf(st.keySet()), List.copyOf(pth.keySet()));
        for (String k : st.keySet()) assertEquals(st.get(k), pth.get(k), k);
    }

    @Test
    void tinyCheckpointHasTheModuleOrderAndTheExpectedValues() throws IOException {
        LinkedHashMap<String, HostTensor> sd = TorchCheckpoint.read(Fixtures.resource("tiny.pth"));
        assertEquals(List.of("conv.weight", "conv.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var",
                "bn.num_batches_tracked", "fc.weight", "fc.bias"), List.copyOf(sd.keySet()).subList(0, 9));
        assertArrayEquals(new long[]{4, 3, 3, 3}, sd.get("conv.weight").shape());

        HostTensor tracked = sd.get("bn.num_batches_tracked");
        assertEquals(DType.I64, tracked.dtype());
        assertArrayEquals(new long[]{}, tracked.shape());
        assertArrayEquals(new long[]{3}, tracked.toLongs());

        float[] fc = sd.get("fc.weight").toFloats(); // [3, 4]
        float[] fcT = sd.get("extra.fc_weight_t").toFloats(); // [4, 3], stored with stride (1, 4)
        assertArrayEquals(new long[]{4, 3}, sd.get("extra.fc_weight_t").shape());
        for (int i = 0; i < 3; i++) for (int j = 0; j < 4; j++) assertEquals(fc[i * 4 + j], fcT[j * 3 + i]);

        assertArrayEquals(new float[]{0, 1, 2, 3, 4, 5}, sd.get("extra.shared_a").toFloats());
        assertArrayEquals(new float[]{4, 5, 6, 7, 8, 9, 10, 11}, sd.get("extra.shared_b").toFloats());
        assertArrayEquals(new float[]{5, 7, 9, 10, 12, 14, 15, 17, 19}, sd.get("extra.strided").toFloats());
        assertArrayEquals(new float[]{7, 7, 7, 7, 7, 7}, sd.get("extra.expanded").toFloats());
        assertArrayEquals(new float[]{-1, -0.5f, 0, 0.5f, 1}, sd.get("extra.f64").toFloats());
        assertEquals(DType.F64, sd.get("extra.f64").dtype());
        assertArrayEquals(new long[]{1, -2, 3, Integer.MAX_VALUE, Integer.MIN_VALUE, 0}, sd.get("extra.i32").toLongs());
        assertArrayEquals(new float[]{0.5f, -2, 65504}, sd.get("extra.f16").toFloats());
        assertArrayEquals(new float[]{1, -3.5f}, sd.get("extra.bf16").toFloats());
        assertArrayEquals(new long[]{-32768, 32767}, sd.get("extra.i16").toLongs());
        assertArrayEquals(new long[]{-128, 127}, sd.get("extra.i8").toLongs());
        assertArrayEquals(new long[]{0, 255}, sd.get("extra.u8").toLongs());
        assertArrayEquals(new long[]{1, 0, 1}, sd.get("extra.bool").toLongs());
        assertArrayEquals(new float[]{2.5f}, sd.get("extra.scalar_f32").toFloats());
        assertArrayEquals(new long[]{0, 3}, sd.get("extra.empty").shape());
        assertArrayEquals(new float[]{1, 2}, sd.get("extra.param").toFloats());
    }

    @Test
    void resnet18LayoutMatchesTorchvisionKeyForKey() throws IOException {
        List<String> expected = new ArrayList<>();
        for (String line : Files.readAllLines(Fixtures.resource("resnet18_layout.txt"))) {
            if (!line.startsWith("#")) expected.add(line);
        }
        LinkedHashMap<String, HostTensor> sd = TorchCheckpoint.read(Fixtures.resource("resnet18_expanded.pth"));
        List<String> actual = new ArrayList<>();
        int i = 0;
        for (var e : sd.entrySet()) {
            HostTensor t = e.getValue();
            StringBuilder shape = new StringBuilder();
            for (long d : t.shape()) shape.append(shape.isEmpty() ? "" : ",").append(d);
            actual.add(e.getKey() + "\t" + t.dtype() + "\t" + shape);
            // Entry i is an expanded view of element i of a shared storage: every value is i.
            float[] v = t.toFloats();
            assertEquals(i, v[0], e.getKey());
            assertEquals(i, v[v.length - 1], e.getKey());
            i++;
        }
        assertEquals(expected, actual);
        assertEquals(122, sd.size());
        assertArrayEquals(new long[]{10, 512}, sd.get("fc.weight").shape());
    }

    @Test
    void aWrappedTrainingCheckpointYieldsItsStateDict() throws IOException {
        LinkedHashMap<String, HostTensor> tiny = TorchCheckpoint.read(Fixtures.resource("tiny.pth"));
        for (String f : List.of("tiny_wrapped.pth", "tiny_model_key.pth")) {
            LinkedHashMap<String, HostTensor> sd = TorchCheckpoint.read(Fixtures.resource(f));
            assertEquals(List.of("conv.weight", "conv.bias", "bn.num_batches_tracked"), List.copyOf(sd.keySet()), f);
            for (String k : sd.keySet()) assertEquals(tiny.get(k), sd.get(k), f + " " + k);
        }
    }

    // ---- refused and corrupt input: every message names the file ----

    private static String failure(Path f) {
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TorchCheckpoint.read(f));
        assertTrue(e.getMessage().startsWith(f.toString()), "message names the file: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void aForbiddenGlobalIsRefusedByName() {
        String m = failure(Fixtures.resource("forbidden_global.pth"));
        assertTrue(m.contains("'os.system'") && m.contains("not allowed") && m.contains("nothing in it was run"), m);
        assertTrue(m.contains("forbidden_global/data.pkl at byte 2"), m);
    }

    @Test
    void notAZipIsReported() throws IOException {
        Path f = dir.resolve("text.pth");
        Files.writeString(f, "hello, this is not a checkpoint");
        String m = failure(f);
        assertTrue(m.contains("not a zip archive") && m.contains("68 65 6c 6c"), m);
        Path empty = Files.write(dir.resolve("empty.pth"), new byte[0]);
        assertTrue(failure(empty).contains("empty"));
    }

    @Test
    void theLegacyFormatIsNamed() throws IOException {
        Path f = dir.resolve("legacy.pth");
        Files.write(f, new byte[]{(byte) 0x80, 0x02, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46});
        assertTrue(failure(f).contains("legacy format"));
    }

    @Test
    void aTruncatedZipIsReported() throws IOException {
        byte[] all = Files.readAllBytes(Fixtures.resource("tiny.pth"));
        Path f = Files.write(dir.resolve("cut.pth"), Arrays.copyOf(all, all.length / 2));
        assertTrue(failure(f).contains("not a zip archive, or a truncated one"));
    }

    @Test
    void aMissingDataPklIsReported() throws IOException {
        Path f = Fixtures.rezip("tiny.pth", dir.resolve("nopkl.pth"), e -> e.remove("tiny/data.pkl"));
        assertTrue(failure(f).contains("no tiny/data.pkl"));
        Path script = Fixtures.rezip("tiny.pth", dir.resolve("script.pth"), e -> {
            e.remove("tiny/data.pkl");
            e.put("tiny/constants.pkl", new byte[]{(byte) 0x80, 2, ')', '.'});
        });
        assertTrue(failure(script).contains("TorchScript"));
        Path flat = dir.resolve("flat.pth");
        LinkedHashMap<String, byte[]> one = new LinkedHashMap<>();
        one.put("data.pkl", new byte[]{'.'});
        Fixtures.zip(flat, one);
        assertTrue(failure(flat).contains("not inside a folder"));
    }

    @Test
    void aMissingStorageFileIsReported() throws IOException {
        Path f = Fixtures.rezip("tiny.pth", dir.resolve("nostorage.pth"), e -> e.remove("tiny/data/0"));
        String m = failure(f);
        assertTrue(m.contains("storage file tiny/data/0 of tensor 'conv.weight' is missing"), m);
    }

    @Test
    void aStorageFileShorterThanDeclaredIsReported() throws IOException {
        Path f = Fixtures.rezip("tiny.pth", dir.resolve("short.pth"),
                e -> e.put("tiny/data/0", Arrays.copyOf(e.get("tiny/data/0"), 100)));
        String m = failure(f);
        assertTrue(m.contains("tiny/data/0 holds 100 bytes, but the pickle declares 108 F32 elements"), m);
    }

    @Test
    void aTruncatedPickleIsReportedAtEveryCut() throws IOException {
        byte[] pkl = Fixtures.unzip(Fixtures.resource("tiny.pth")).get("tiny/data.pkl");
        for (int cut : new int[]{0, 1, 2, 30, pkl.length / 2, pkl.length - 1}) {
            Path f = Fixtures.rezip("tiny.pth", dir.resolve("pkl" + cut + ".pth"),
                    e -> e.put("tiny/data.pkl", Arrays.copyOf(pkl, cut)));
            String m = failure(f);
            assertTrue(m.contains("tiny/data.pkl at byte") && m.contains("truncated"), m);
        }
    }

    @Test
    void aMissingFileIsAnIoErrorNamingIt() {
        Path f = dir.resolve("absent.pth");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> TorchCheckpoint.read(f));
        assertTrue(e.getMessage().contains("absent.pth") && e.getMessage().contains("no such file"));
    }

    @Test
    void aDictOfOtherThingsIsNotAStateDict() throws IOException {
        // {'epoch': 3}
        byte[] pkl = {(byte) 0x80, 2, '}', 'q', 0, 'X', 5, 0, 0, 0, 'e', 'p', 'o', 'c', 'h', 'K', 3, 's', '.'};
        LinkedHashMap<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("x/data.pkl", pkl);
        entries.put("x/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        Path f = dir.resolve("epoch.pth");
        Fixtures.zip(f, entries);
        String m = failure(f);
        assertTrue(m.contains("entry 'epoch' is the integer 3, not a tensor") && m.contains("'state_dict' or 'model'"), m);
    }

    @Test
    void bigEndianArchivesAreSwappedToLittleEndian() throws IOException {
        Path f = Fixtures.oneStorageCheckpoint(PickleBytes.oneTensor("t", "FloatStorage", "0", 6, 0, new long[]{2, 3}, new long[]{1, 2}),
                Fixtures.floats(6, ByteOrder.BIG_ENDIAN), "big");
        try {
            assertArrayEquals(new float[]{0, 2, 4, 1, 3, 5}, TorchCheckpoint.read(f).get("t").toFloats());
        } finally {
            Files.delete(f);
        }
    }

    @Test
    void anUnknownByteOrderIsRefused() throws IOException {
        Path f = Fixtures.oneStorageCheckpoint(PickleBytes.oneTensor("t", "FloatStorage", "0", 1, 0, new long[]{1}, new long[]{1}),
                Fixtures.floats(1, ByteOrder.LITTLE_ENDIAN), "middle");
        try {
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TorchCheckpoint.read(f));
            assertTrue(e.getMessage().contains("byteorder says 'middle'"), e.getMessage());
        } finally {
            Files.delete(f);
        }
    }

    @Test
    void aStorageDeclaredWithTwoSizesIsRefused() throws IOException {
        PickleBytes p = new PickleBytes().op(0x80, 2, '}', '(');
        for (String name : new String[]{"a", "b"}) {
            int numel = name.equals("a") ? 2 : 4;
            p.str(name).global("torch._utils", "_rebuild_tensor_v2").op('(')
                    .op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(numel).op('t', 'Q')
                    .integer(0).tuple(numel).tuple(1).op(0x89, '}', 't', 'R');
        }
        Path f = Fixtures.oneStorageCheckpoint(p.op('u', '.').bytes(), Fixtures.floats(4, ByteOrder.LITTLE_ENDIAN), null);
        try {
            CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TorchCheckpoint.read(f));
            assertTrue(e.getMessage().contains("declared as 2 F32 elements and, for tensor 'b', as 4"), e.getMessage());
        } finally {
            Files.delete(f);
        }
    }
}
