package dev.advinterp.experiments.wordnet;

import dev.advinterp.engine.io.AtomicFile;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.logging.Logger;
import java.util.stream.IntStream;

/**
 * The WordNet distances between every pair of a dataset's classes (the paper's d(w_i, w_j)), and
 * from them the similarity matrix A of Eq. 2: {@code A_ij = exp(−d(w_i, w_j)² / (2σ²))}.
 *
 * <p>Computed once per class list and kept on disk ({@link #cached}): the file is named by a hash
 * of the class list and holds the list itself, so a file for another list is never used. For the
 * 1000 ImageNet classes (about 500,000 pairs) the computation takes a few seconds after WordNet
 * has loaded; see bench/README.md for the measured time.
 */
public final class ClassDistances {
    private static final Logger LOG = Logger.getLogger(ClassDistances.class.getName());
    private static final int MAGIC = 0x41574e44; // "AWND"
    private static final int VERSION = 1;

    private final List<String> wnids;
    private final short[] d;

    private ClassDistances(List<String> wnids, short[] d) {
        this.wnids = List.copyOf(wnids);
        this.d = d;
    }

    /** The distances of {@code wnids} (in that order) computed from WordNet; a bad wnid is an error naming it and its class index. */
    public static ClassDistances compute(WordNetGraph graph, List<String> wnids) {
        int n = wnids.size();
        if (n == 0) throw new IllegalArgumentException("no classes to measure distances between");
        List<Map<Long, Integer>> up = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            try {
                up.add(graph.ancestorsOf(wnids.get(i)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("class " + i + ": " + e.getMessage(), e);
            }
        }
        short[] d = new short[n * n];
        // Rows in parallel: each pair is a small map intersection.
        IntStream.range(0, n).parallel().forEach(i -> {
            for (int j = i + 1; j < n; j++) {
                int v = WordNetGraph.distance(up.get(i), up.get(j));
                d[i * n + j] = (short) v;
                d[j * n + i] = (short) v;
            }
        });
        return new ClassDistances(wnids, d);
    }

    /**
     * The distances of {@code wnids} from the cache folder, or computed (loading WordNet through
     * {@code graph} only then) and stored there. A cache file that cannot be read is recomputed
     * with a warning naming it.
     */
    public static ClassDistances cached(List<String> wnids, Path cacheDir, Supplier<WordNetGraph> graph) throws IOException {
        Path file = cacheDir.resolve("wordnet-distances-" + key(wnids) + ".bin");
        if (Files.isRegularFile(file)) {
            try (InputStream in = Files.newInputStream(file)) {
                ClassDistances c = read(new DataInputStream(new java.io.BufferedInputStream(in)));
                if (c.wnids.equals(wnids)) return c;
                LOG.warning(file + " holds the distances of another class list; recomputing");
            } catch (IOException | RuntimeException e) {
                LOG.warning(file + " cannot be read (" + e.getMessage() + "); recomputing the WordNet distances");
            }
        }
        ClassDistances c;
        try (WordNetGraph g = graph.get()) {
            c = compute(g, wnids);
        }
        Files.createDirectories(cacheDir);
        AtomicFile.writeBytes(file, c.bytes());
        return c;
    }

    /** A hash of the class list, for the cache file's name. */
    static String key(List<String> wnids) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(String.join("\n", wnids).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private byte[] bytes() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(16 + wnids.size() * 12 + d.length * 2);
        DataOutputStream out = new DataOutputStream(b);
        out.writeInt(MAGIC);
        out.writeInt(VERSION);
        out.writeInt(wnids.size());
        for (String w : wnids) out.writeUTF(w);
        for (short v : d) out.writeShort(v);
        out.flush();
        return b.toByteArray();
    }

    private static ClassDistances read(DataInputStream in) throws IOException {
        if (in.readInt() != MAGIC || in.readInt() != VERSION) throw new IOException("not a distance file of this version");
        int n = in.readInt();
        if (n <= 0 || n > 100_000) throw new IOException("class count " + n + " out of range");
        List<String> wnids = new ArrayList<>(n);
        for (int i = 0; i < n; i++) wnids.add(in.readUTF());
        short[] d = new short[n * n];
        for (int i = 0; i < d.length; i++) d[i] = in.readShort();
        if (in.read() != -1) throw new IOException("bytes after the distances");
        return new ClassDistances(wnids, d);
    }

    public List<String> wnids() {
        return wnids;
    }

    public int size() {
        return wnids.size();
    }

    /** d(w_i, w_j) in hypernym edges. */
    public int get(int i, int j) {
        return d[i * wnids.size() + j];
    }

    /** The similarity matrix A of Eq. 2, row-major n×n: {@code exp(−d²/(2σ²))}, 1 on the diagonal. */
    public double[] similarity(double sigma) {
        if (!(sigma > 0) || !Double.isFinite(sigma)) throw new IllegalArgumentException("σ must be a finite number > 0, got " + sigma);
        int n = wnids.size();
        double[] a = new double[n * n];
        for (int k = 0; k < a.length; k++) {
            double v = d[k];
            a[k] = Math.exp(-v * v / (2 * sigma * sigma));
        }
        return a;
    }
}
