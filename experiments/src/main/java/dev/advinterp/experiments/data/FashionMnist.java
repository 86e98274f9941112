package dev.advinterp.experiments.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Fashion-MNIST (Xiao et al. 2017): 28×28 grey images of ten kinds of clothing, 60,000 for
 * training and 10,000 for testing, read from the four IDX files (gzipped or not) in one directory,
 * by default where Debian's {@code dataset-fashion-mnist} puts them. The whole split is held in
 * memory as bytes (47 MB for training); {@link #get} scales them to [0, 1].
 *
 * <p>{@link #classes()} are the WordNet 3.0 noun synsets chosen for the ten classes, so that the
 * consistency metric can measure distances between them; {@link #wordNetClasses()} gives the
 * table with the dataset's own names ({@code data/fashion-mnist-wordnet.csv} explains each choice).
 */
public final class FashionMnist implements Dataset {
    /** Where Debian's dataset-fashion-mnist installs the files. */
    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    private static final String WORDNET_TABLE = "data/fashion-mnist-wordnet.csv";
    private static final List<WordNetClass> CLASSES = readWordNetTable();
    private static final List<String> WNIDS = CLASSES.stream().map(WordNetClass::wnid).toList();

    private final String name;
    private final byte[] images;
    private final byte[] labels;
    private final int count, height, width;

    private FashionMnist(String name, byte[] images, byte[] labels, int count, int height, int width) {
        this.name = name;
        this.images = images;
        this.labels = labels;
        this.count = count;
        this.height = height;
        this.width = width;
    }

    /** The 60,000 training images of {@code dir}. */
    public static FashionMnist train(Path dir) throws IOException {
        return read(dir, "train");
    }

    /** The 10,000 test images of {@code dir}. */
    public static FashionMnist test(Path dir) throws IOException {
        return read(dir, "t10k");
    }

    /** The ten classes with their WordNet 3.0 synsets, in label order. */
    public static List<WordNetClass> wordNetClasses() {
        return CLASSES;
    }

    private static FashionMnist read(Path dir, String prefix) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("Fashion-MNIST: no directory " + dir + "; install Debian's package (apt-get install dataset-fashion-mnist) "
                    + "or pass --data DIR with the directory that holds " + prefix + "-images-idx3-ubyte.gz and " + prefix + "-labels-idx1-ubyte.gz");
        }
        Path imageFile = find(dir, prefix + "-images-idx3-ubyte"), labelFile = find(dir, prefix + "-labels-idx1-ubyte");
        IdxFile images = IdxFile.read(imageFile, 3), labels = IdxFile.read(labelFile, 1);
        int n = images.dims()[0];
        if (labels.dims()[0] != n) {
            throw new IOException("Fashion-MNIST: " + imageFile + " holds " + n + " images but " + labelFile + " holds " + labels.dims()[0]
                    + " labels; the two files come from different sets: get them again together");
        }
        if (n == 0 || images.dims()[1] == 0 || images.dims()[2] == 0) {
            throw new IOException("Fashion-MNIST: " + imageFile + " holds no pixels (sizes " + n + "×" + images.dims()[1] + "×" + images.dims()[2] + ")");
        }
        byte[] y = labels.data();
        for (int i = 0; i < n; i++) {
            if ((y[i] & 0xff) >= CLASSES.size()) {
                throw new IOException("Fashion-MNIST: " + labelFile + ": label " + (y[i] & 0xff) + " of sample " + i + " is not one of the "
                        + CLASSES.size() + " classes (0–" + (CLASSES.size() - 1) + ")");
            }
        }
        String split = prefix.equals("train") ? "train" : "test";
        return new FashionMnist("fashion-mnist/" + split, images.data(), y, n, images.dims()[1], images.dims()[2]);
    }

    /** The file {@code base} or {@code base.gz} in {@code dir}. */
    private static Path find(Path dir, String base) throws IOException {
        for (String candidate : List.of(base, base + ".gz")) {
            Path p = dir.resolve(candidate);
            if (Files.isRegularFile(p)) return p;
        }
        throw new IOException("Fashion-MNIST: " + dir + " has neither " + base + " nor " + base + ".gz; reinstall Debian's package "
                + "(apt-get install --reinstall dataset-fashion-mnist) or pass --data DIR with the four IDX files");
    }

    private static List<WordNetClass> readWordNetTable() {
        InputStream in = FashionMnist.class.getClassLoader().getResourceAsStream(WORDNET_TABLE);
        if (in == null) throw new IllegalStateException("the resource " + WORDNET_TABLE + " is missing from the class path; rebuild the jar");
        List<WordNetClass> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            r.readLine();
            int lineNo = 1;
            for (String line; (line = r.readLine()) != null; ) {
                lineNo++;
                if (line.isBlank()) continue;
                // The comment, last, may hold commas; the four fields before it never do.
                String[] f = line.split(",", 5);
                if (f.length < 4 || !f[0].strip().equals(Integer.toString(out.size()))) {
                    throw new IllegalStateException(WORDNET_TABLE + " line " + lineNo + ": expected 'label,name,wnid,lemma,comment' with label "
                            + out.size() + ", got: " + line);
                }
                out.add(new WordNetClass(out.size(), f[1].strip(), f[2].strip(), f[3].strip()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading the resource " + WORDNET_TABLE, e);
        }
        return List.copyOf(out);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int size() {
        return count;
    }

    @Override
    public List<String> classes() {
        return WNIDS;
    }

    @Override
    public int channels() {
        return 1;
    }

    @Override
    public int height() {
        return height;
    }

    @Override
    public int width() {
        return width;
    }

    /** Image {@code index}; Fashion-MNIST has no preprocessing of its own, so {@code random} is unused. */
    @Override
    public Sample get(int index, SplittableRandom random) {
        if (index < 0 || index >= count) throw new IndexOutOfBoundsException(name + " has " + count + " samples, no " + index);
        int per = height * width, base = index * per;
        float[] out = new float[per];
        for (int i = 0; i < per; i++) out[i] = (images[base + i] & 0xff) / 255f;
        return new Sample(out, labels[index], 1, height, width);
    }

    /** The label of {@code index} without decoding its image (for class balances and subsets). */
    public int label(int index) {
        return labels[index];
    }
}
