package dev.advinterp.experiments.run;

import dev.advinterp.engine.io.AtomicFile;
import dev.advinterp.nn.io.Json;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * The output folder of one run (an attack, a training, a measurement), held for the run's
 * lifetime:
 * <ul>
 *   <li>a lock ({@code .lock}, an operating-system file lock, so it is released when the process
 *       dies): a second run into the same folder is refused while the first is alive;</li>
 *   <li>{@code settings.json}: what the run is (its kind) and every setting that decides its
 *       results. A run started again in a folder with results continues only with {@code resume}
 *       and the same settings; different settings are refused with the differences named, unless
 *       {@code force}, which deletes the outputs the run owns and starts over. Without
 *       {@code resume}, a folder that already holds a run is refused too (rather than mixing or
 *       silently replacing its results), unless {@code force};</li>
 *   <li>the temporaries of atomic writes that a killed process left are removed on opening.</li>
 * </ul>
 * Open it after the inputs (model, data) have been read, so that a failed load leaves no folder.
 */
public final class RunFolder implements AutoCloseable {
    public static final String SETTINGS = "settings.json", LOCK = ".lock";

    private final Path dir;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final boolean resumed;

    private RunFolder(Path dir, FileChannel lockChannel, FileLock lock, boolean resumed) {
        this.dir = dir;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.resumed = resumed;
    }

    /**
     * Opens (creating it if needed) the folder of a run.
     *
     * @param kind     what writes the folder ("attack", "consistency", …)
     * @param settings the settings that decide the results, as JSON-writable values in a fixed order
     * @param owned    glob patterns (relative to the folder) of the outputs this run writes, deleted by {@code force}
     * @param resume   continue the run the folder holds (same settings required)
     * @param force    start over, whatever the folder holds of an earlier run of this program
     */
    public static RunFolder open(Path dir, String kind, Map<String, Object> settings, List<String> owned, boolean resume, boolean force)
            throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--out " + dir + " is a file, not a folder; choose a folder");
        }
        Files.createDirectories(dir);
        if (!Files.isWritable(dir)) throw new IllegalArgumentException("--out " + dir + " is not writable");
        FileChannel ch = FileChannel.open(dir.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            ch.close();
            throw new IllegalStateException(dir + " is in use by another run (its " + LOCK + " is held); wait for it to finish or choose another --out");
        }
        try {
            AtomicFile.removeStaleTemporaries(dir);
            Map<String, Object> wanted = new LinkedHashMap<>();
            wanted.put("kind", kind);
            wanted.put("settings", settings);
            Path file = dir.resolve(SETTINGS);
            boolean resumed = false;
            if (Files.exists(file)) {
                Map<String, Object> had = Json.readObject(file);
                List<String> differences = differences(had, kind, settings);
                if (force) {
                    deleteOwned(dir, owned);
                } else if (!resume) {
                    throw new IllegalArgumentException(dir + " already holds a " + had.get("kind") + " run (" + SETTINGS
                            + "); --resume continues it" + (differences.isEmpty() ? "" : " (its settings differ: " + String.join("; ", differences) + ")")
                            + ", --force starts over in it, or choose another --out");
                } else if (!differences.isEmpty()) {
                    throw new IllegalArgumentException(dir + " holds a run with other settings, so it cannot be resumed: "
                            + String.join("; ", differences) + ". Resume with the same settings, --force to start over, or choose another --out");
                } else {
                    resumed = true;
                }
            } else if (containsAny(dir, owned)) {
                if (!force) {
                    throw new IllegalArgumentException(dir + " holds outputs of a run but no " + SETTINGS
                            + " (written by an older version?); --force replaces them, or choose another --out");
                }
                deleteOwned(dir, owned);
            }
            AtomicFile.writeString(file, Json.pretty(wanted));
            return new RunFolder(dir, ch, lock, resumed);
        } catch (IOException | RuntimeException e) {
            lock.release();
            ch.close();
            throw e;
        }
    }

    private static List<String> differences(Map<String, Object> had, String kind, Map<String, Object> settings) {
        List<String> out = new ArrayList<>();
        if (!kind.equals(had.get("kind"))) {
            out.add("it is a " + had.get("kind") + " run, this is a " + kind + " run");
            return out;
        }
        Map<?, ?> before = had.get("settings") instanceof Map<?, ?> m ? m : Map.of();
        // Compare as JSON text, so numbers read back (1.0 vs 1) compare as they were written.
        Map<String, Object> now = new LinkedHashMap<>(settings);
        TreeSet<String> keys = new TreeSet<>();
        for (Object k : before.keySet()) keys.add(String.valueOf(k));
        keys.addAll(now.keySet());
        for (String k : keys) {
            String a = Json.write(normal(before.get(k))), b = Json.write(normal(now.get(k)));
            if (!Objects.equals(a, b)) out.add(k + ": " + a + " then, " + b + " now");
        }
        return out;
    }

    /** Numbers as they read back from JSON: a float by its shortest decimal, a whole number as a long. */
    private static Object normal(Object v) {
        if (v instanceof Float f) v = Double.parseDouble(Float.toString(f));
        if (v instanceof Integer i) return (long) i;
        if (v instanceof Double d && d == Math.rint(d) && Math.abs(d) < 1e15) return (long) (double) d;
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(String.valueOf(k), normal(x)));
            return out;
        }
        if (v instanceof List<?> l) return l.stream().map(RunFolder::normal).toList();
        return v;
    }

    private static boolean containsAny(Path dir, List<String> owned) throws IOException {
        for (String g : owned) {
            PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + g);
            try (var s = Files.list(dir)) {
                if (s.anyMatch(p -> m.matches(p.getFileName()))) return true;
            }
        }
        return false;
    }

    private static void deleteOwned(Path dir, List<String> owned) throws IOException {
        for (String g : owned) {
            PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + g);
            List<Path> doomed;
            try (var s = Files.walk(dir)) {
                doomed = s.filter(p -> !p.equals(dir) && m.matches(dir.relativize(p))).sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList();
            }
            for (Path p : doomed) {
                if (Files.isDirectory(p)) {
                    try (var s = Files.walk(p)) {
                        for (Path q : s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) Files.deleteIfExists(q);
                    }
                } else {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    public Path dir() {
        return dir;
    }

    public Path file(String name) {
        return dir.resolve(name);
    }

    /** Whether this opening continues a run found in the folder. */
    public boolean resumed() {
        return resumed;
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            lockChannel.close();
        }
    }
}
