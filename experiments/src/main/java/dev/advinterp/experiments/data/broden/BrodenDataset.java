package dev.advinterp.experiments.data.broden;

import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.experiments.data.WordNetClass;
import dev.advinterp.experiments.io.Csv;
import dev.advinterp.experiments.io.ImageCodec;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A dataset in the Broden layout that NetDissect reads (Bau et al. 2017): a folder with
 * <ul>
 *   <li>{@code index.csv} ({@code image,split,ih,iw,sh,sw,} then one column per category): per image
 *       its path under {@code images/}, its split, its size, the size of its masks, and per category
 *       {@code ;}-separated entries, each a mask PNG under {@code images/} (label = red + 256·green,
 *       0 unlabelled) or a number labelling the whole image;</li>
 *   <li>{@code category.csv} ({@code name,first,last,count,frequency});</li>
 *   <li>{@code label.csv} ({@code number,name,category,frequency,coverage,syns}, category like
 *       {@code color(12);object(3)});</li>
 *   <li>{@code c_<category>.csv} ({@code code,number,name,frequency,coverage}) per category;</li>
 *   <li>optionally, our addition for classification, {@code classes.csv} ({@code class,wnid,name}:
 *       the class index, its WordNet 3.0 noun synset, a lemma of it) and {@code image_class.csv}
 *       ({@code image,class}).</li>
 * </ul>
 * The tables are read and cross-checked when the dataset is opened: a malformed row is an error
 * naming the file and line. Images and masks are decoded on demand; one that is missing or corrupt is
 * skipped with a warning naming it, once, and counted in {@link #skipped()}. Safe for concurrent reads.
 */
public final class BrodenDataset {
    /** The columns of {@code index.csv} that are not categories. */
    public static final List<String> META_COLUMNS = List.of("image", "split", "ih", "iw", "sh", "sw");
    /** Our additions for classification: the classes and each image's class. */
    public static final String CLASSES = "classes.csv", IMAGE_CLASS = "image_class.csv";
    private static final Logger LOG = Logger.getLogger(BrodenDataset.class.getName());
    private static final Pattern CATEGORY_COUNT = Pattern.compile("^([^(]*)\\(([^)]*)\\)$");

    private final Path dir, images;
    private final List<BrodenCategory> categories;
    private final Map<Integer, BrodenLabel> labels;
    private final Map<String, List<BrodenCode>> codes;
    private final List<String> indexCategories;
    private final List<BrodenEntry> entries;
    private final List<WordNetClass> classes;
    private final int[] imageClass;
    private final Consumer<String> warnings;
    private final Set<String> unreadable = ConcurrentHashMap.newKeySet();

    private BrodenDataset(Path dir, Consumer<String> warnings) {
        this.dir = dir;
        this.images = dir.resolve("images");
        this.warnings = warnings;
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException(dir + ": no such folder (expected a Broden dataset folder)");
        this.labels = readLabels();
        this.categories = readCategories();
        this.codes = readCodes();
        Csv.Table index = Csv.read(dir.resolve("index.csv"), missing("index.csv")).require(META_COLUMNS.toArray(String[]::new));
        List<String> cats = new ArrayList<>();
        for (String h : index.header()) if (!META_COLUMNS.contains(h)) cats.add(h);
        this.indexCategories = List.copyOf(cats);
        this.entries = readEntries(index);
        this.classes = readClasses();
        this.imageClass = classes.isEmpty() ? null : readImageClasses();
    }

    /** Opens the Broden folder {@code dir}; warnings about unreadable files go to the log. */
    public static BrodenDataset open(Path dir) {
        return open(dir, LOG::warning);
    }

    /** Opens the Broden folder {@code dir}, sending each warning about an unreadable file to {@code warnings}. */
    public static BrodenDataset open(Path dir, Consumer<String> warnings) {
        return new BrodenDataset(dir, warnings);
    }

    private String missing(String file) {
        return dir + " is not a complete Broden dataset: " + file + " is missing. A Broden folder holds index.csv, category.csv, "
                + "label.csv, c_<category>.csv for each category of category.csv, and the images and mask PNGs under images/ "
                + "(the layout of NetDissect's broden1_224; `advinterp data scenes --out DIR` writes one)";
    }

    private Map<Integer, BrodenLabel> readLabels() {
        Csv.Table t = Csv.read(dir.resolve("label.csv"), missing("label.csv"))
                .require("number", "name", "category", "frequency", "coverage");
        boolean syns = t.header().contains("syns");
        Map<Integer, BrodenLabel> out = new TreeMap<>();
        for (Csv.Row r : t.rows()) {
            int number = r.integer("number");
            if (number < 0) throw r.error("number " + number + " is negative");
            Map<String, Integer> cats = new LinkedHashMap<>();
            for (String item : r.get("category").split(";")) {
                if (item.isBlank()) continue;
                Matcher m = CATEGORY_COUNT.matcher(item.strip());
                if (!m.matches()) throw r.error("category entry '" + item + "' is not of the form name(count)");
                try {
                    cats.put(m.group(1), Integer.parseInt(m.group(2).strip()));
                } catch (NumberFormatException e) {
                    throw r.error("category entry '" + item + "' has no whole number in parentheses");
                }
            }
            List<String> synonyms = new ArrayList<>();
            if (syns) for (String s : r.get("syns").split(";")) if (!s.isBlank()) synonyms.add(s.strip());
            BrodenLabel l = new BrodenLabel(number, r.get("name"), cats, r.integer("frequency"), r.decimal("coverage"), synonyms);
            if (out.put(number, l) != null) throw r.error("label number " + number + " appears twice");
        }
        return Collections.unmodifiableMap(out);
    }

    private List<BrodenCategory> readCategories() {
        Csv.Table t = Csv.read(dir.resolve("category.csv"), missing("category.csv")).require("name", "first", "last", "count", "frequency");
        List<BrodenCategory> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Csv.Row r : t.rows()) {
            String name = r.get("name").strip();
            if (name.isEmpty() || !seen.add(name)) throw r.error("category name '" + name + "' is empty or repeated");
            out.add(new BrodenCategory(name, r.integer("first"), r.integer("last"), r.integer("count"), r.integer("frequency")));
        }
        return List.copyOf(out);
    }

    private Map<String, List<BrodenCode>> readCodes() {
        Map<String, List<BrodenCode>> out = new LinkedHashMap<>();
        for (BrodenCategory c : categories) {
            String file = "c_" + c.name() + ".csv";
            Csv.Table t = Csv.read(dir.resolve(file), missing(file)).require("code", "number", "name", "frequency", "coverage");
            List<BrodenCode> list = new ArrayList<>();
            Set<Integer> codesSeen = new HashSet<>();
            for (Csv.Row r : t.rows()) {
                int code = r.integer("code"), number = r.integer("number");
                if (code < 0 || !codesSeen.add(code)) throw r.error("code " + code + " is negative or repeated");
                if (number != 0 && !labels.containsKey(number)) throw r.error("label number " + number + " is not in label.csv");
                list.add(new BrodenCode(c.name(), code, number, r.get("name"), r.integer("frequency"), r.decimal("coverage")));
            }
            out.put(c.name(), List.copyOf(list));
        }
        return Collections.unmodifiableMap(out);
    }

    private List<BrodenEntry> readEntries(Csv.Table t) {
        List<BrodenEntry> out = new ArrayList<>(t.rows().size());
        for (Csv.Row r : t.rows()) {
            String image = confined(r, r.get("image").strip());
            int ih = side(r, "ih"), iw = side(r, "iw"), sh = side(r, "sh"), sw = side(r, "sw");
            Map<String, List<String>> masks = new HashMap<>();
            Map<String, List<Integer>> whole = new HashMap<>();
            for (String cat : indexCategories) {
                List<String> m = new ArrayList<>();
                List<Integer> w = new ArrayList<>();
                for (String item : r.get(cat).split(";")) {
                    item = item.strip();
                    if (item.isEmpty()) continue;
                    if (item.chars().allMatch(Character::isDigit)) {
                        int number;
                        try {
                            number = Integer.parseInt(item);
                        } catch (NumberFormatException e) {
                            throw r.error(cat + " label " + item + " is out of range");
                        }
                        if (!labels.containsKey(number)) throw r.error(cat + " label " + number + " is not in label.csv");
                        w.add(number);
                    } else {
                        m.add(confined(r, item));
                    }
                }
                masks.put(cat, m);
                whole.put(cat, w);
            }
            out.add(new BrodenEntry(out.size(), r.line(), image, r.get("split").strip(), ih, iw, sh, sw, masks, whole));
        }
        return List.copyOf(out);
    }

    /** The largest image or mask side read (8192, as {@link ImageCodec#MAX_PIXELS} allows). */
    public static final int MAX_SIDE = 8192;

    private static int side(Csv.Row r, String column) {
        int v = r.integer(column);
        if (v <= 0) throw r.error(column + " " + v + " is not a positive size");
        if (v > MAX_SIDE) throw r.error(column + " " + v + " is over the largest supported side, " + MAX_SIDE);
        return v;
    }

    /** A path of index.csv, which must name a file inside images/: neither absolute nor climbing out with "..". */
    private String confined(Csv.Row r, String path) {
        if (path.isEmpty()) throw r.error("the image path is empty");
        Path p;
        try {
            p = Path.of(path);
        } catch (java.nio.file.InvalidPathException e) {
            throw r.error("'" + path + "' is not a valid path");
        }
        if (p.isAbsolute() || !images.resolve(p).normalize().startsWith(images.normalize())) {
            throw r.error("the path '" + path + "' leaves the images/ folder; every image and mask must lie inside it");
        }
        return path;
    }

    private List<WordNetClass> readClasses() {
        boolean has = Files.exists(dir.resolve(CLASSES)), hasImages = Files.exists(dir.resolve(IMAGE_CLASS));
        if (!has && !hasImages) return List.of();
        if (has != hasImages) {
            throw new IllegalArgumentException(dir + ": " + (has ? IMAGE_CLASS : CLASSES) + " is missing; image classes need both "
                    + CLASSES + " (class,wnid,name) and " + IMAGE_CLASS + " (image,class), or neither for dissection only");
        }
        Csv.Table t = Csv.read(dir.resolve(CLASSES), missing(CLASSES)).require("class", "wnid", "name");
        List<WordNetClass> out = new ArrayList<>();
        for (Csv.Row r : t.rows()) {
            int c = r.integer("class");
            if (c != out.size()) throw r.error("class " + c + " is out of order: classes are numbered 0, 1, 2, … in file order");
            String wnid = r.get("wnid").strip();
            if (!wnid.matches("n\\d{8}")) throw r.error("wnid '" + wnid + "' is not a WordNet noun id (n and 8 digits)");
            String name = r.get("name").strip();
            out.add(new WordNetClass(c, name, wnid, name));
        }
        if (out.isEmpty()) throw new IllegalArgumentException(t.file() + ": lists no classes");
        return List.copyOf(out);
    }

    private int[] readImageClasses() {
        Csv.Table t = Csv.read(dir.resolve(IMAGE_CLASS), missing(IMAGE_CLASS)).require("image", "class");
        Map<String, Integer> byImage = new HashMap<>();
        for (BrodenEntry e : entries) byImage.put(e.image(), e.index());
        int[] out = new int[entries.size()];
        Arrays.fill(out, -1);
        for (Csv.Row r : t.rows()) {
            Integer i = byImage.get(r.get("image").strip());
            if (i == null) throw r.error("image '" + r.get("image") + "' is not in index.csv");
            int c = r.integer("class");
            if (c < 0 || c >= classes.size()) throw r.error("class " + c + " is not in 0.." + (classes.size() - 1) + " (" + CLASSES + ")");
            if (out[i] >= 0) throw r.error("image '" + r.get("image") + "' is given a class twice");
            out[i] = c;
        }
        for (BrodenEntry e : entries) {
            if (out[e.index()] < 0) {
                throw new IllegalArgumentException(t.file() + ": image '" + e.image() + "' (index.csv line " + e.line() + ") has no class");
            }
        }
        return out;
    }

    public Path directory() {
        return dir;
    }

    /** The categories of {@code category.csv}, in file order. */
    public List<BrodenCategory> categories() {
        return categories;
    }

    /** The category columns of {@code index.csv}, in header order. */
    public List<String> indexCategories() {
        return indexCategories;
    }

    /** Every label of {@code label.csv}, by number. */
    public Map<Integer, BrodenLabel> labels() {
        return labels;
    }

    public BrodenLabel label(int number) {
        BrodenLabel l = labels.get(number);
        if (l == null) throw new IllegalArgumentException(dir.resolve("label.csv") + " has no label number " + number);
        return l;
    }

    /** The rows of {@code c_<category>.csv}. */
    public List<BrodenCode> codes(String category) {
        List<BrodenCode> c = codes.get(category);
        if (c == null) throw new IllegalArgumentException(dir + ": no category '" + category + "' (category.csv has " + codes.keySet() + ")");
        return c;
    }

    public int size() {
        return entries.size();
    }

    public List<BrodenEntry> entries() {
        return entries;
    }

    public BrodenEntry entry(int index) {
        return entries.get(index);
    }

    /**
     * The image classes of {@code classes.csv}; empty when the folder has none (dissection only).
     * The name column is a lemma of the synset, so it serves as both name and lemma.
     */
    public List<WordNetClass> classes() {
        return classes;
    }

    /** The class of image {@code index}; the folder must have classes. */
    public int imageClass(int index) {
        if (imageClass == null) throw noClasses();
        return imageClass[index];
    }

    /** Distinct image and mask files found missing or corrupt so far. */
    public long skipped() {
        return unreadable.size();
    }

    /** The pixels of image {@code index} as RGB in [0, 1], {@code [3, ih, iw]}; empty (warned, counted) if unreadable. */
    public Optional<float[]> pixels(int index) {
        BrodenEntry e = entries.get(index);
        BufferedImage img = read(e, e.image());
        if (img == null) return Optional.empty();
        if (img.getHeight() != e.ih() || img.getWidth() != e.iw()) {
            skip(e, e.image(), "it is " + img.getHeight() + "×" + img.getWidth() + ", index.csv says ih×iw = " + e.ih() + "×" + e.iw());
            return Optional.empty();
        }
        return Optional.of(ImageCodec.toChw(img));
    }

    /** Per category column of the index, the masks and whole-image labels of image {@code index}; unreadable masks are left out. */
    public Map<String, CategoryLabels> concepts(int index) {
        BrodenEntry e = entries.get(index);
        Map<String, CategoryLabels> out = new LinkedHashMap<>();
        for (String cat : indexCategories) {
            List<int[]> masks = new ArrayList<>();
            for (String file : e.masks().get(cat)) {
                BufferedImage img = read(e, file);
                if (img == null) continue;
                if (img.getHeight() != e.sh() || img.getWidth() != e.sw()) {
                    skip(e, file, "it is " + img.getHeight() + "×" + img.getWidth() + ", index.csv says sh×sw = " + e.sh() + "×" + e.sw());
                    continue;
                }
                masks.add(ImageCodec.toLabels(img));
            }
            out.put(cat, new CategoryLabels(masks, e.imageLabels().get(cat)));
        }
        return out;
    }

    /** Image {@code index} with its concepts; empty when the image itself is unreadable. */
    public Optional<BrodenImage> load(int index) {
        return pixels(index).map(p -> new BrodenImage(entries.get(index), p, concepts(index)));
    }

    /**
     * The images of {@code split} ("train", "val"; null for all) as a classification dataset whose
     * class names are the WordNet ids of {@code classes.csv}. An unreadable image is replaced by the
     * next readable one of the split (with its label), warned about once and counted.
     */
    public Dataset classification(String split) {
        if (imageClass == null) throw noClasses();
        return new BrodenClassification(images(split));
    }

    /**
     * The images of {@code split} (null: all) for network dissection: every image in index order,
     * unreadable ones marked rather than replaced. They must all have one size, the model's input.
     */
    public BrodenImages images(String split) {
        List<Integer> chosen = new ArrayList<>();
        for (BrodenEntry e : entries) if (split == null || split.equals(e.split())) chosen.add(e.index());
        if (chosen.isEmpty()) {
            Set<String> splits = new TreeSet<>();
            for (BrodenEntry e : entries) splits.add(e.split());
            throw new IllegalArgumentException(dir + ": no image of split '" + split + "' (index.csv has splits " + splits + ")");
        }
        BrodenEntry first = entries.get(chosen.getFirst());
        for (int i : chosen) {
            BrodenEntry e = entries.get(i);
            if (e.ih() != first.ih() || e.iw() != first.iw() || e.sh() != first.sh() || e.sw() != first.sw()) {
                throw new IllegalArgumentException(dir.resolve("index.csv") + " line " + e.line() + ": image is " + e.ih() + "×" + e.iw()
                        + " with masks " + e.sh() + "×" + e.sw() + " but line " + first.line() + " is " + first.ih() + "×" + first.iw() + " with "
                        + first.sh() + "×" + first.sw() + "; a set of images needs one size");
            }
        }
        return new BrodenImages(this, chosen.stream().mapToInt(Integer::intValue).toArray(), first.ih(), first.iw(),
                dir.getFileName() + (split == null ? "" : "/" + split));
    }

    private IllegalStateException noClasses() {
        return new IllegalStateException(dir + " has no image classes (" + CLASSES + " and " + IMAGE_CLASS
                + "): it can be dissected but not used for classification");
    }

    private BufferedImage read(BrodenEntry e, String relative) {
        Path file = images.resolve(relative);
        byte[] bytes;
        try {
            bytes = ImageCodec.readFile(file);
        } catch (NoSuchFileException x) {
            skip(e, relative, "no such file");
            return null;
        } catch (IOException x) {
            skip(e, relative, "cannot be read (" + x.getMessage() + ")");
            return null;
        }
        try {
            return ImageCodec.decode(bytes);
        } catch (IOException x) {
            skip(e, relative, "corrupt (" + x.getMessage() + ")");
            return null;
        }
    }

    private void skip(BrodenEntry e, String relative, String why) {
        Path file = images.resolve(relative);
        if (unreadable.add(file.toString())) {
            warnings.accept("skipping " + file + ": " + why + " (index.csv line " + e.line() + ")");
        }
    }
}
