package dev.advinterp.nn.io;

import dev.advinterp.engine.io.AtomicFile;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

/**
 * Reads and writes the safetensors format: an unsigned 64-bit little-endian header length N,
 * N bytes of JSON ({@code {"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...}} with an
 * optional {@code "__metadata__"} map of strings), then the tensors' bytes back to back. Files
 * written here are byte-compatible with the reference implementation (compact JSON, metadata
 * first, header padded with spaces to a multiple of 8 so the data is 8-byte aligned).
 *
 * <p>Reading trusts nothing: every length, offset and dtype is checked against the file before
 * any tensor is allocated, and each problem is a {@link CheckpointFormatException} naming the
 * file. Writing is atomic: the bytes go to a temporary file in the target's folder, are forced
 * to disk, and the temporary file is renamed over the target, so a crash leaves either the old
 * file or the new one, never a torn one.
 */
public final class SafeTensors {

    /** The reference implementation refuses headers above this; so do we, before allocating. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final String METADATA_KEY = "__metadata__";

    private SafeTensors() {
    }

    /** All tensors of the file, in the order of their data. */
    public static LinkedHashMap<String, HostTensor> read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            SafeTensorsHeader header = readHeader(file, ch);
            LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
            for (Map.Entry<String, SafeTensorsHeader.Entry> e : header.tensors().entrySet()) {
                SafeTensorsHeader.Entry t = e.getValue();
                if (t.byteSize() > Integer.MAX_VALUE - 8) {
                    throw new CheckpointFormatException(file, "tensor '" + e.getKey() + "' has " + t.byteSize()
                            + " bytes, more than one host tensor can hold (2 GiB)");
                }
                byte[] data = new byte[(int) t.byteSize()];
                readFully(file, ch, header.dataStart() + t.begin(), ByteBuffer.wrap(data));
                out.put(e.getKey(), new HostTensor(t.dtype(), t.shape(), data));
            }
            return out;
        }
    }

    /** The validated header only: names, dtypes, shapes, offsets and metadata, without the data. */
    public static SafeTensorsHeader readHeader(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return readHeader(file, ch);
        }
    }

    private static SafeTensorsHeader readHeader(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 8) {
            throw new CheckpointFormatException(file, "only " + size
                    + " bytes, too short for a safetensors file (it starts with an 8-byte header length); the file is truncated or empty");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(file, ch, 0, lenBuf);
        long n = lenBuf.getLong(0);
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw new CheckpointFormatException(file, "header length " + Long.toUnsignedString(n) + " is over the "
                    + MAX_HEADER_BYTES + "-byte limit: this is not a safetensors file, or a corrupt one");
        }
        if (8 + n > size) {
            throw new CheckpointFormatException(file, "header length " + n + " goes beyond the end of the file ("
                    + size + " bytes): the file is truncated or not a safetensors file");
        }
        byte[] json = new byte[(int) n];
        readFully(file, ch, 8, ByteBuffer.wrap(json));
        Object root;
        try {
            root = Json.parse(json, 0, json.length);
        } catch (Json.SyntaxException e) {
            throw new CheckpointFormatException(file, "bad JSON in the header at byte " + (8 + e.offset)
                    + " of the file: " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> top)) {
            throw new CheckpointFormatException(file, "the header is JSON but not an object (found " + kind(root) + ")");
        }
        long dataStart = 8 + n;
        long dataLength = size - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Map.Entry<String, SafeTensorsHeader.Entry>> entries = new ArrayList<>();
        for (Map.Entry<?, ?> e : top.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals(METADATA_KEY)) {
                metadata = metadata(file, e.getValue());
            } else {
                SafeTensorsHeader.Entry t = entry(file, name, e.getValue());
                if (t.end() > dataLength) {
                    throw new CheckpointFormatException(file, "tensor '" + name + "': data_offsets [" + t.begin() + ", "
                            + t.end() + "] go beyond the end of the data (" + dataLength
                            + " bytes after the header): the file is truncated or its header is corrupt");
                }
                entries.add(Map.entry(name, t));
            }
        }
        // Stable sort: zero-byte tensors sharing an offset keep their header order.
        entries.sort(Comparator.comparingLong((Map.Entry<String, SafeTensorsHeader.Entry> e) -> e.getValue().begin())
                .thenComparingLong(e -> e.getValue().end()));
        long expected = 0;
        String previous = null;
        for (Map.Entry<String, SafeTensorsHeader.Entry> e : entries) {
            SafeTensorsHeader.Entry t = e.getValue();
            if (t.begin() < expected) {
                throw new CheckpointFormatException(file, "tensors '" + previous + "' and '" + e.getKey()
                        + "' overlap (the data of '" + e.getKey() + "' starts at " + t.begin() + ", before " + expected
                        + "): the header is corrupt");
            }
            if (t.begin() > expected) {
                throw new CheckpointFormatException(file, "a gap of " + (t.begin() - expected) + " bytes before tensor '"
                        + e.getKey() + "' (data_offsets must cover the data section contiguously): the header is corrupt");
            }
            expected = t.end();
            previous = e.getKey();
        }
        if (expected != dataLength) {
            throw new CheckpointFormatException(file, (dataLength - expected) + " bytes after the last tensor's data"
                    + " that the header does not describe: the header is corrupt or the file was appended to");
        }
        SequencedMap<String, SafeTensorsHeader.Entry> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, SafeTensorsHeader.Entry> e : entries) tensors.put(e.getKey(), e.getValue());
        return new SafeTensorsHeader(tensors, metadata, dataStart);
    }

    private static Map<String, String> metadata(Path file, Object value) throws CheckpointFormatException {
        Map<String, String> out = new LinkedHashMap<>();
        if (value == null) return out;
        if (!(value instanceof Map<?, ?> m)) {
            throw new CheckpointFormatException(file, "\"__metadata__\" must be an object of strings, found " + kind(value));
        }
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new CheckpointFormatException(file, "\"__metadata__\" entry '" + e.getKey()
                        + "' must be a string, found " + kind(e.getValue()));
            }
            out.put((String) e.getKey(), s);
        }
        return out;
    }

    private static SafeTensorsHeader.Entry entry(Path file, String name, Object value) throws CheckpointFormatException {
        String where = "tensor '" + name + "'";
        if (!(value instanceof Map<?, ?> m)) {
            throw new CheckpointFormatException(file, where + ": expected an object with dtype, shape and data_offsets, found " + kind(value));
        }
        if (!(m.get("dtype") instanceof String dtypeName)) {
            throw new CheckpointFormatException(file, where + ": \"dtype\" is missing or not a string");
        }
        DType dtype = null;
        for (DType d : DType.values()) if (d.safetensorsName().equals(dtypeName)) dtype = d;
        if (dtype == null) {
            throw new CheckpointFormatException(file, where + ": unknown dtype '" + dtypeName + "' (supported: "
                    + Arrays.stream(DType.values()).map(DType::safetensorsName).toList() + ")");
        }
        long[] shape = longs(file, where, "shape", m.get("shape"), -1);
        long[] offsets = longs(file, where, "data_offsets", m.get("data_offsets"), 2);
        long begin = offsets[0], end = offsets[1];
        if (begin > end) {
            throw new CheckpointFormatException(file, where + ": data_offsets [" + begin + ", " + end + "] end before they begin");
        }
        long numel = 1;
        try {
            for (long d : shape) numel = Math.multiplyExact(numel, d);
            long need = Math.multiplyExact(numel, dtype.bytes());
            if (need != end - begin) {
                throw new CheckpointFormatException(file, where + ": data_offsets [" + begin + ", " + end + "] hold "
                        + (end - begin) + " bytes, but a " + dtype + " tensor of shape " + Arrays.toString(shape)
                        + " needs " + need);
            }
        } catch (ArithmeticException e) {
            throw new CheckpointFormatException(file, where + ": shape " + Arrays.toString(shape) + " is too large");
        }
        return new SafeTensorsHeader.Entry(dtype, shape, begin, end);
    }

    private static long[] longs(Path file, String where, String field, Object value, int length) throws CheckpointFormatException {
        if (!(value instanceof List<?> list)) {
            throw new CheckpointFormatException(file, where + ": \"" + field + "\" is missing or not an array");
        }
        if (length >= 0 && list.size() != length) {
            throw new CheckpointFormatException(file, where + ": \"" + field + "\" must have " + length + " elements, has " + list.size());
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Long l) || l < 0) {
                Object v = list.get(i);
                throw new CheckpointFormatException(file, where + ": \"" + field + "\" holds " + (v instanceof BigInteger ? v : kind(v))
                        + ", expected non-negative integers below 2^63");
            }
            out[i] = l;
        }
        return out;
    }

    private static String kind(Object v) {
        return switch (v) {
            case null -> "null";
            case String s -> "the string \"" + s + "\"";
            case Map<?, ?> m -> "an object";
            case List<?> l -> "an array";
            case Boolean b -> b.toString();
            default -> "the number " + v;
        };
    }

    private static void readFully(Path file, FileChannel ch, long position, ByteBuffer dst) throws IOException {
        long at = position;
        while (dst.hasRemaining()) {
            int r = ch.read(dst, at);
            if (r < 0) {
                throw new CheckpointFormatException(file, "ends at byte " + at + " while " + dst.remaining()
                        + " more bytes were expected: the file is truncated (or was changed while being read)");
            }
            at += r;
        }
    }

    // ---- writing ----

    /** Writes the tensors in the map's order, without metadata. */
    public static void write(Path file, SequencedMap<String, HostTensor> tensors) throws IOException {
        write(file, tensors, Map.of());
    }

    /**
     * Writes the tensors in the map's order with the given string metadata (written only when not
     * empty), replacing {@code file} atomically.
     */
    public static void write(Path file, SequencedMap<String, HostTensor> tensors, Map<String, String> metadata) throws IOException {
        LinkedHashMap<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) {
            LinkedHashMap<String, Object> m = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                checkText(file, "metadata key", e.getKey());
                checkText(file, "metadata value of '" + e.getKey() + "'", e.getValue());
                m.put(e.getKey(), e.getValue());
            }
            header.put(METADATA_KEY, m);
        }
        List<byte[]> data = new ArrayList<>(tensors.size());
        long offset = 0;
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            String name = e.getKey();
            checkText(file, "tensor name", name);
            if (name.equals(METADATA_KEY)) {
                throw new IllegalArgumentException(file + ": '" + METADATA_KEY + "' is reserved for metadata and cannot name a tensor");
            }
            HostTensor t = e.getValue();
            if (t == null) throw new IllegalArgumentException(file + ": tensor '" + name + "' is null");
            LinkedHashMap<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", t.dtype().safetensorsName());
            List<Long> shape = new ArrayList<>();
            for (long d : t.shape()) shape.add(d);
            info.put("shape", shape);
            info.put("data_offsets", List.of(offset, offset + t.data().length));
            header.put(name, info);
            offset += t.data().length;
            data.add(t.data());
        }
        byte[] json = Json.write(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();
        AtomicFile.write(file, ch -> {
            writeFully(ch, head);
            for (byte[] d : data) writeFully(ch, ByteBuffer.wrap(d));
        });
    }

    private static void checkText(Path file, String what, String s) {
        if (s == null) throw new IllegalArgumentException(file + ": a " + what + " is null");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            // A lone surrogate has no UTF-8 form; encoding would silently turn it into '?'.
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException(file + ": " + what + " \"" + s + "\" holds an unpaired surrogate and has no UTF-8 form");
            }
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }
}
