package dev.advinterp.nn.io;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.function.Consumer;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/** The committed fixtures (written by tools/fixtures/make_io_fixtures.py) and ways to damage them. */
final class Fixtures {

    private Fixtures() {
    }

    static Path resource(String name) {
        URL url = Fixtures.class.getResource("/io/" + name);
        if (url == null) {
            throw new IllegalStateException("test resource io/" + name + " is missing: run /usr/bin/python3 tools/fixtures/make_io_fixtures.py");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The entries of a zip in order, name to bytes. */
    static LinkedHashMap<String, byte[]> unzip(Path zip) throws IOException {
        LinkedHashMap<String, byte[]> out = new LinkedHashMap<>();
        try (ZipFile z = new ZipFile(zip.toFile())) {
            Enumeration<? extends ZipEntry> en = z.entries();
            while (en.hasMoreElements()) {
                ZipEntry e = en.nextElement();
                out.put(e.getName(), z.getInputStream(e).readAllBytes());
            }
        }
        return out;
    }

    static void zip(Path target, LinkedHashMap<String, byte[]> entries) throws IOException {
        try (OutputStream os = Files.newOutputStream(target); ZipOutputStream z = new ZipOutputStream(os)) {
            for (var e : entries.entrySet()) {
                z.putNextEntry(new ZipEntry(e.getKey()));
                z.write(e.getValue());
                z.closeEntry();
            }
        }
    }

    /** A copy of a fixture zip with its entries edited. */
    static Path rezip(String fixture, Path target, Consumer<LinkedHashMap<String, byte[]>> edit) throws IOException {
        LinkedHashMap<String, byte[]> entries = unzip(resource(fixture));
        edit.accept(entries);
        zip(target, entries);
        return target;
    }

    /** A checkpoint archive holding one pickle and one storage, {@code data/0}. */
    static Path oneStorageCheckpoint(byte[] pickle, byte[] storage, String byteorder) throws IOException {
        Path f = Files.createTempFile("strided", ".pth");
        LinkedHashMap<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("archive/data.pkl", pickle);
        entries.put("archive/data/0", storage);
        entries.put("archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        if (byteorder != null) entries.put("archive/byteorder", byteorder.getBytes(StandardCharsets.US_ASCII));
        Fixtures.zip(f, entries);
        return f;
    }

    static byte[] floats(int n, ByteOrder order) {
        ByteBuffer b = ByteBuffer.allocate(n * 4).order(order);
        for (int i = 0; i < n; i++) b.putFloat(i);
        return b.array();
    }
}
