package dev.advinterp.nn.io;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafeTensorsPropertiesTest {

    record Named(String name, HostTensor tensor) {
    }

    @Provide
    Arbitrary<HostTensor> tensors() {
        Arbitrary<DType> dtypes = Arbitraries.of(DType.class);
        Arbitrary<long[]> shapes = Arbitraries.longs().between(0, 4).array(long[].class).ofMinSize(0).ofMaxSize(4);
        return Combinators.combine(dtypes, shapes, Arbitraries.randomValue(r -> r.nextLong())).as((dtype, shape, seed) -> {
            long n = 1;
            for (long d : shape) n *= d;
            byte[] data = new byte[(int) n * dtype.bytes()];
            new java.util.Random(seed).nextBytes(data);
            return new HostTensor(dtype, shape, data);
        });
    }

    @Provide
    Arbitrary<List<Named>> stateDicts() {
        // Names with quotes, backslashes, control characters and non-ASCII exercise the JSON escaping.
        Arbitrary<String> names = Arbitraries.oneOf(
                Arbitraries.strings().withChars("abc.\"\\\n\t\u0001é漢_0").ofMinLength(0).ofMaxLength(10)
                        .map(s -> s.replace("_", "\uD83D\uDE00")), // a character outside the BMP, as a surrogate pair
                Arbitraries.strings().alpha().numeric().withChars('.').ofMinLength(1).ofMaxLength(20))
                .filter(s -> !s.equals("__metadata__"));
        return Combinators.combine(names, tensors()).as(Named::new).list().ofMaxSize(8).uniqueElements(Named::name);
    }

    @Provide
    Arbitrary<Map<String, String>> metadata() {
        return Arbitraries.maps(Arbitraries.strings().ofMaxLength(6).withChars("kv\"\\é"), Arbitraries.strings().ofMaxLength(6))
                .ofMaxSize(3)
                .filter(m -> m.keySet().stream().allMatch(SafeTensorsPropertiesTest::wellFormed)
                        && m.values().stream().allMatch(SafeTensorsPropertiesTest::wellFormed));
    }

    private static boolean wellFormed(String s) {
        return s.codePoints().noneMatch(c -> c >= Character.MIN_SURROGATE && c <= Character.MAX_SURROGATE);
    }

    @Property(tries = 200)
    void writeThenReadGivesBackTheSameTensorsInTheSameOrder(@ForAll("stateDicts") List<Named> entries,
                                                           @ForAll("metadata") Map<String, String> metadata) throws IOException {
        LinkedHashMap<String, HostTensor> in = new LinkedHashMap<>();
        for (Named e : entries) in.put(e.name(), e.tensor());
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

    @Property(tries = 100)
    void everyTruncationIsACleanError(@ForAll("stateDicts") List<Named> entries, @ForAll double where) throws IOException {
        LinkedHashMap<String, HostTensor> in = new LinkedHashMap<>();
        for (Named e : entries) in.put(e.name(), e.tensor());
        Path dir = Files.createTempDirectory("safetensors-property");
        try {
            Path f = dir.resolve("p.safetensors");
            SafeTensors.write(f, in);
            byte[] all = Files.readAllBytes(f);
            int cut = (int) (Math.abs(where) % 1.0 * all.length);
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
