package dev.advinterp.experiments.data.scenes;

import dev.advinterp.experiments.data.broden.BrodenDataset;
import dev.advinterp.experiments.io.Csv;
import dev.advinterp.experiments.io.ImageCodec;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Writes the generated "scenes" dataset in the Broden layout ({@link BrodenDataset} reads it, and so
 * would NetDissect), plus {@code classes.csv} and {@code image_class.csv} for classification.
 * Images are drawn and encoded in parallel; each depends on (seed, index) only, and the tables are
 * written in index order, so a seed always gives the same bytes. The folder is assembled under a
 * hidden name beside the target and renamed into place at the end: an interrupted run leaves no
 * folder that looks like a finished dataset.
 */
public final class ScenesGenerator {
    /** The folder under {@code images/} holding the pictures and their masks. */
    public static final String IMAGE_FOLDER = "scenes";
    private static final int CHUNK = 512;

    private final ScenesOptions options;
    private final SceneComposer composer;

    public ScenesGenerator(ScenesOptions options) {
        this.options = options;
        this.composer = new SceneComposer(options.size(), options.seed(), options.valFraction(), options.difficulty());
    }

    public ScenesOptions options() {
        return options;
    }

    RenderedScene render(int index) {
        return composer.render(index);
    }

    static String imageName(int index) {
        return String.format(Locale.ROOT, "%s/%08d.png", IMAGE_FOLDER, index);
    }

    static String maskName(int index, String category) {
        return String.format(Locale.ROOT, "%s/%08d_%s.png", IMAGE_FOLDER, index, category);
    }

    /** Per image, what the tables need: which masks exist, the scene, and the pixel count of every label. */
    private record Written(int present, int scene, int[] pixels) {
    }

    /**
     * Generates the dataset into {@code out}, which must be absent or empty; with {@code replace}, an
     * existing Broden folder there (one holding index.csv) is replaced, and nothing else ever is.
     * {@code progress} hears the number of images done so far, from the calling thread.
     */
    public ScenesSummary generate(Path out, boolean replace, IntConsumer progress) {
        long t0 = System.nanoTime();
        Path target = out.toAbsolutePath().normalize();
        checkTarget(target, replace);
        Path parent = target.getParent();
        Path partial = parent.resolve("." + target.getFileName() + ".partial");
        try {
            Files.createDirectories(parent);
            // A folder of this name is only ever the remains of an interrupted run.
            deleteTree(partial);
            Files.createDirectories(partial.resolve("images").resolve(IMAGE_FOLDER));
            int n = options.images(), half = options.size() / 2, labels = SceneConcept.values().length;
            byte[] present = new byte[n], scene = new byte[n];
            long[] pixels = new long[labels + 1];
            int[] images = new int[labels + 1];
            for (int start = 0; start < n; start += CHUNK) {
                int end = Math.min(n, start + CHUNK);
                List<Written> done = IntStream.range(start, end).parallel().mapToObj(i -> write(partial, i)).toList();
                for (int k = 0; k < done.size(); k++) {
                    Written w = done.get(k);
                    present[start + k] = (byte) w.present();
                    scene[start + k] = (byte) w.scene();
                    for (int l = 1; l <= labels; l++) {
                        pixels[l] += w.pixels()[l];
                        if (w.pixels()[l] > 0) images[l]++;
                    }
                    images[w.scene()]++;
                }
                progress.accept(end);
            }
            int val = writeTables(partial, present, scene, pixels, images, (long) half * half);
            moveIntoPlace(partial, target, replace);
            double seconds = (System.nanoTime() - t0) / 1e9;
            return new ScenesSummary(target, n, n - val, val, SceneClass.values().length, labels, seconds);
        } catch (IOException | UncheckedIOException e) {
            IOException cause = e instanceof UncheckedIOException u ? u.getCause() : (IOException) e;
            try {
                deleteTree(partial);
            } catch (IOException ignored) {
                // The next run removes it; the first failure is the one to report.
            }
            throw new IllegalStateException("writing the scenes dataset to " + target + " failed: " + cause, cause);
        }
    }

    private Written write(Path root, int index) {
        RenderedScene s = composer.render(index);
        int size = s.size(), half = size / 2;
        int[] pixels = new int[SceneConcept.values().length + 1];
        int present = 0;
        Path folder = root.resolve("images");
        try {
            Files.write(folder.resolve(imageName(index)), ImageCodec.png(s.rgb(), size, size));
            for (int c = 0; c < SceneConcept.MASK_CATEGORIES.size(); c++) {
                String category = SceneConcept.MASK_CATEGORIES.get(c);
                int[] mask = s.masks().get(category);
                if (mask == null) continue;
                present |= 1 << c;
                for (int v : mask) pixels[v]++;
                Files.write(folder.resolve(maskName(index, category)), ImageCodec.maskPng(mask, half, half));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        pixels[0] = 0;
        return new Written(present, s.scene().number(), pixels);
    }

    /** Writes every table; returns the number of validation images. */
    private int writeTables(Path root, byte[] present, byte[] scene, long[] pixels, int[] images, long maskPixels) throws IOException {
        int n = present.length, size = options.size(), half = size / 2, val = 0;
        List<String> cats = SceneConcept.CATEGORIES;
        int[] categoryImages = new int[cats.size()];
        try (BufferedWriter index = writer(root.resolve("index.csv")); BufferedWriter imageClass = writer(root.resolve(BrodenDataset.IMAGE_CLASS))) {
            index.write(Csv.line((Object[]) Stream.concat(BrodenDataset.META_COLUMNS.stream(), cats.stream()).toArray(String[]::new)));
            imageClass.write(Csv.line("image", "class"));
            for (int i = 0; i < n; i++) {
                boolean isVal = composer.isVal(i);
                if (isVal) val++;
                StringBuilder row = new StringBuilder();
                row.append(imageName(i)).append(',').append(isVal ? "val" : "train").append(',')
                        .append(size).append(',').append(size).append(',').append(half).append(',').append(half);
                for (int c = 0; c < cats.size(); c++) {
                    String cat = cats.get(c);
                    row.append(',');
                    if (cat.equals("scene")) {
                        row.append(scene[i]);
                        categoryImages[c]++;
                        continue;
                    }
                    int bit = SceneConcept.MASK_CATEGORIES.indexOf(cat);
                    if ((present[i] & (1 << bit)) != 0) {
                        row.append(maskName(i, cat));
                        categoryImages[c]++;
                    }
                }
                index.write(row.append('\n').toString());
                imageClass.write(Csv.line(imageName(i), SceneComposer.classOf(i).ordinal()));
            }
        }
        try (BufferedWriter w = writer(root.resolve("category.csv"))) {
            w.write(Csv.line("name", "first", "last", "count", "frequency"));
            for (int c = 0; c < cats.size(); c++) {
                List<SceneConcept> of = SceneConcept.of(cats.get(c));
                w.write(Csv.line(cats.get(c), of.getFirst().number(), of.getLast().number(), of.size(), categoryImages[c]));
            }
        }
        try (BufferedWriter w = writer(root.resolve("label.csv"))) {
            w.write(Csv.line("number", "name", "category", "frequency", "coverage", "syns"));
            for (SceneConcept c : SceneConcept.values()) {
                int l = c.number();
                w.write(Csv.line(l, c.label(), c.category() + "(" + images[l] + ")", images[l], coverage(c, pixels, images, maskPixels), c.label()));
            }
        }
        for (String cat : cats) {
            try (BufferedWriter w = writer(root.resolve("c_" + cat + ".csv"))) {
                w.write(Csv.line("code", "number", "name", "frequency", "coverage"));
                int code = 1;
                for (SceneConcept c : SceneConcept.of(cat)) {
                    int l = c.number();
                    w.write(Csv.line(code++, l, c.label(), images[l], coverage(c, pixels, images, maskPixels)));
                }
            }
        }
        try (BufferedWriter w = writer(root.resolve(BrodenDataset.CLASSES))) {
            w.write(Csv.line("class", "wnid", "name"));
            for (SceneClass c : SceneClass.values()) w.write(Csv.line(c.ordinal(), c.wnid(), c.title()));
        }
        return val;
    }

    /** Pixel coverage in units of whole images (a whole-image label counts 1 per image), as NetDissect's tables give it. */
    private static String coverage(SceneConcept c, long[] pixels, int[] images, long maskPixels) {
        double v = c.category().equals("scene") ? images[c.number()] : (double) pixels[c.number()] / maskPixels;
        return String.format(Locale.ROOT, "%.4f", v);
    }

    private static BufferedWriter writer(Path file) throws IOException {
        return Files.newBufferedWriter(file, StandardCharsets.UTF_8);
    }

    private static void checkTarget(Path target, boolean replace) {
        if (!Files.exists(target)) return;
        if (!Files.isDirectory(target)) throw new IllegalArgumentException(target + " exists and is not a folder: choose another --out");
        if (isEmpty(target)) return;
        if (!replace) {
            throw new IllegalArgumentException(target + " is not empty: choose another --out, or add --force to replace the dataset there");
        }
        if (!Files.isRegularFile(target.resolve("index.csv"))) {
            throw new IllegalArgumentException(target + " holds files but no index.csv: --force replaces only a Broden dataset folder, "
                    + "never other files; choose another --out");
        }
        List<String> foreign = foreignFiles(target);
        if (!foreign.isEmpty()) {
            throw new IllegalArgumentException(target + " holds files this generator does not write (" + String.join(", ", foreign)
                    + (foreign.size() == 5 ? ", …" : "") + "): --force replaces only a generated dataset, never other files; move them or choose another --out");
        }
    }

    /** The names (relative to {@code target}, at most 5) of the files in it that a generated dataset does not have. */
    private static List<String> foreignFiles(Path target) {
        java.util.regex.Pattern ours = java.util.regex.Pattern.compile(
                "(index|category|label|classes|image_class)\\.csv|c_[a-z]+\\.csv|images|images/" + IMAGE_FOLDER + "|images/" + IMAGE_FOLDER
                        + "/\\d{8}(_[a-z]+)?\\.png");
        try (Stream<Path> all = Files.walk(target)) {
            return all.filter(p -> !p.equals(target))
                    .map(p -> target.relativize(p).toString().replace('\\', '/'))
                    .filter(name -> !ours.matcher(name).matches())
                    .sorted().limit(5).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(target + ": cannot be listed (" + e.getMessage() + ")", e);
        }
    }

    private static boolean isEmpty(Path dir) {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            return !s.iterator().hasNext();
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot be listed (" + e.getMessage() + ")", e);
        }
    }

    private static void moveIntoPlace(Path partial, Path target, boolean replace) throws IOException {
        checkTarget(target, replace);
        if (Files.exists(target) && isEmpty(target)) Files.delete(target);
        Path old = null;
        if (Files.exists(target)) {
            old = target.resolveSibling("." + target.getFileName() + ".replaced");
            deleteTree(old);
            Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
        if (old != null) deleteTree(old);
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
