package dev.advinterp.nn.io;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Round trips and truncations of random state dicts: a fixed number of cases from a fixed seed,
 * each named by its tensors' names, dtypes and shapes (names and metadata escaped to ASCII).
 */
class SafeTensorsPropertiesTest {

    /** A state dict and its metadata. */
    record RoundTrip(LinkedHashMap<String, HostTensor> tensors, Map<String, String> metadata) {
        @Override
        public String toString() {
            return show(tensors) + " metadata " + show(metadata);
        }
    }

    /** A state dict, and where in its file to cut it: at {@code fraction} of its length, rounded down. */
    record Truncation(LinkedHashMap<String, HostTensor> tensors, double fraction) {
        @Override
        public String toString() {
            return show(tensors) + " cut at " + fraction;
        }
    }

    static Stream<RoundTrip> roundTrips() {
        SplittableRandom r = new SplittableRandom(701);
        return IntStream.range(0, 200).mapToObj(i -> new RoundTrip(stateDict(r), metadata(r))).toList().stream();
    }

    static Stream<Truncation> truncations() {
        SplittableRandom r = new SplittableRandom(702);
        return IntStream.range(0, 100).mapToObj(i -> {
            LinkedHashMap<String, HostTensor> tensors = stateDict(r);
            // the first and the last cut one time in eight each
            int u = r.nextInt(8);
            return new Truncation(tensors, u == 0 ? 0.0 : u == 1 ? Math.nextDown(1.0) : r.nextDouble());
        }).toList().stream();
    }

    /** In [min, max], either end one time in four. */
    private static int between(SplittableRandom r, int min, int max) {
        int u = r.nextInt(8);
        return u == 0 ? min : u == 1 ? max : r.nextInt(min, max + 1);
    }

    /** Any dtype, rank 0 to 4, each dimension 0 to 4 (empty tensors included), random bytes. */
    private static HostTensor tensor(SplittableRandom r) {
        DType[] dtypes = DType.values();
        DType dtype = dtypes[r.nextInt(dtypes.length)];
        long[] shape = new long[between(r, 0, 4)];
        long n = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = between(r, 0, 4);
            n *= shape[i];
        }
        byte[] data = new byte[(int) n * dtype.bytes()];
        r.nextBytes(data);
        return new HostTensor(dtype, shape, data);
    }

    private static final int[] ESCAPED_NAME_CHARS = {'a', 'b', 'c', '.', '"', '\\', '\n', '\t', 0x01, 'é', '漢', 0x1F600, '0'};
    private static final String PLAIN_NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.";

    /**
     * Half the names, of 0 to 10 characters, have quotes, backslashes, control characters and
     * non-ASCII (a character outside the BMP among them, as a surrogate pair) to exercise the JSON
     * escaping; the other half are plain names of 1 to 20 letters, digits and dots.
     */
    private static String name(SplittableRandom r) {
        StringBuilder b = new StringBuilder();
        if (r.nextBoolean()) {
            for (int i = between(r, 0, 10); i > 0; i--) b.appendCodePoint(ESCAPED_NAME_CHARS[r.nextInt(ESCAPED_NAME_CHARS.length)]);
        } else {
            for (int i = between(r, 1, 20); i > 0; i--) b.append(PLAIN_NAME_CHARS.charAt(r.nextInt(PLAIN_NAME_CHARS.length())));
        }
        return b.toString();
    }

    /** Up to 8 tensors under distinct names, none of them the header's reserved "__metadata__". */
    private static LinkedHashMap<String, HostTensor> stateDict(SplittableRandom r) {
        int size = between(r, 0, 8);
        LinkedHashMap<String, HostTensor> d = new LinkedHashMap<>();
        while (d.size() < size) {
            String name = name(r);
            if (!name.equals("__metadata__") && !d.containsKey(name)) d.put(name, tensor(r));
        }
        return d;
    }

    /**
     * Up to 3 entries; keys of up to 6 characters among k, v, quote, backslash and é, values of up
     * to 6 characters of any kind: ASCII, control characters, any BMP character that is not a
     * surrogate, characters outside the BMP (well-formed surrogate pairs, never a lone surrogate).
     */
    private static Map<String, String> metadata(SplittableRandom r) {
        int size = between(r, 0, 3);
        Map<String, String> m = new LinkedHashMap<>();
        while (m.size() < size) {
            StringBuilder k = new StringBuilder(), v = new StringBuilder();
            for (int i = between(r, 0, 6); i > 0; i--) k.append("kv\"\\é".charAt(r.nextInt(5)));
            for (int i = between(r, 0, 6); i > 0; i--) {
                v.appendCodePoint(switch (r.nextInt(4)) {
                    case 0 -> r.nextInt(0x20, 0x7F);
                    case 1 -> r.nextInt(0x20);
                    case 2 -> {
                        int c = r.nextInt(0x10000 - (Character.MAX_SURROGATE - Character.MIN_SURROGATE + 1));
                        yield c < Character.MIN_SURROGATE ? c : c + (Character.MAX_SURROGATE - Character.MIN_SURROGATE + 1);
                    }
                    default -> r.nextInt(Character.MIN_SUPPLEMENTARY_CODE_POINT, Character.MAX_CODE_POINT + 1);
                });
            }
            m.putIfAbsent(k.toString(), v.toString());
        }
        return m;
    }

    private static String show(Map<String, ?> m) {
        StringBuilder b = new StringBuilder("{");
        m.forEach((k, v) -> {
            if (b.length() > 1) b.append(", ");
            b.append(show(k)).append(": ").append(v instanceof String s ? show(s) : v);
        });
        return b.append('}').toString();
    }

    /** The string quoted, every quote, backslash and character outside printable ASCII written as a unicode escape. */
    private static String show(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') b.append(c);
            else b.append(String.format("\\u%04x", (int) c));
        }
        return b.append('"').toString();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("roundTrips")
    void writeThenReadGivesBackTheSameTensorsInTheSameOrder(RoundTrip c) throws IOException {
        LinkedHashMap<String, HostTensor> in = c.tensors();
        Map<String, String> metadata = c.metadata();
        Path dir = Files.createTempDirectory("safetensors-property");
        try {
            Path f = dir.resolve("p.safetensors");
            SafeTensors.write(f, in, metadata);
            LinkedHashMap<String, HostTensor> out = SafeTensors.read(f);
            assertEquals(List.copyOf(in.keySet()), List.copyOf(out.keySet()));
            assertEquals(in, out);
            SafeTensorsHeader h = SafeTensors.readHeader(f);
            assertEquals(metadata, h.metadata());
            assertEquals(0, h.dataStart() % 8);
            long total = in.values().stream().mapToLong(t -> t.data().length).sum();
            assertEquals(h.dataStart() + total, Files.size(f));
        } finally {
            deleteRecursively(dir);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("truncations")
    void everyTruncationIsACleanError(Truncation c) throws IOException {
        LinkedHashMap<String, HostTensor> in = c.tensors();
        Path dir = Files.createTempDirectory("safetensors-property");
        try {
            Path f = dir.resolve("p.safetensors");
            SafeTensors.write(f, in);
            byte[] all = Files.readAllBytes(f);
            int cut = (int) (c.fraction() * all.length);
            Files.write(f, java.util.Arrays.copyOf(all, cut));
            try {
                SafeTensors.read(f);
                // Every cut removes bytes the header accounts for, so no truncated file may read cleanly.
                throw new AssertionError("a file cut from " + all.length + " to " + cut + " bytes was accepted");
            } catch (CheckpointFormatException e) {
                assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
            }
        } finally {
            deleteRecursively(dir);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
