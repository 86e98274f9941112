package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.io.AtomicFile;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;

/**
 * Native libraries shipped inside Maven jars (org.bytedeco's openblas, dnnl, opencl), extracted
 * once into the engine's cache so that they load without anything installed:
 * {@code <cache>/<artifact>-<version>/<file>}, written beside the target and renamed, so a
 * concurrent or interrupted extraction never leaves a torn library. A file already there with the
 * jar entry's size is kept.
 */
final class BundledLibraries {
    private BundledLibraries() {
    }

    /** Whether the jar holding {@code prefix + file} is on the class path. */
    static boolean present(String prefix, String file) {
        return BundledLibraries.class.getClassLoader().getResource(prefix + file) != null;
    }

    /**
     * Extracts {@code files} (resources under {@code prefix}) of the org.bytedeco {@code artifact}
     * into the cache (the temporary folder when the cache is not writable) and returns the folder.
     */
    static Path extract(Path cache, String artifact, String prefix, String... files) throws IOException {
        Path dir = folder(cache, artifact);
        ClassLoader cl = BundledLibraries.class.getClassLoader();
        for (String name : files) {
            Path target = dir.resolve(name);
            var url = cl.getResource(prefix + name);
            if (url == null) throw new IOException(prefix + name + " missing from the " + artifact + " jar");
            long size = url.openConnection().getContentLengthLong();
            if (Files.isRegularFile(target) && (size < 0 || Files.size(target) == size)) continue;
            try (InputStream in = url.openStream()) {
                AtomicFile.copy(in, target);
            }
        }
        return dir;
    }

    private static Path folder(Path base, String artifact) throws IOException {
        String version = Optional.ofNullable(BundledLibraries.class.getClassLoader()
                        .getResource("META-INF/maven/org.bytedeco/" + artifact + "/pom.properties"))
                .map(u -> {
                    try (InputStream in = u.openStream()) {
                        Properties props = new Properties();
                        props.load(in);
                        return props.getProperty("version", "unknown");
                    } catch (IOException e) {
                        return "unknown";
                    }
                }).orElse("unknown");
        Path dir = base.resolve(artifact + "-" + version);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            dir = Path.of(System.getProperty("java.io.tmpdir"), "advinterp-" + System.getProperty("user.name"), artifact + "-" + version);
            Files.createDirectories(dir);
        }
        return dir;
    }
}
