package dev.advinterp.experiments.data.scenes;

import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.experiments.data.Sample;
import dev.advinterp.experiments.data.broden.BrodenCategory;
import dev.advinterp.experiments.data.broden.BrodenCode;
import dev.advinterp.experiments.data.broden.BrodenDataset;
import dev.advinterp.experiments.data.broden.BrodenEntry;
import dev.advinterp.experiments.data.broden.BrodenImage;
import dev.advinterp.experiments.data.broden.BrodenLabel;
import dev.advinterp.experiments.data.broden.CategoryLabels;
import dev.advinterp.experiments.io.ImageCodec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScenesGeneratorTest {
    static final int N = 200, SIZE = 64, HALF = SIZE / 2;
    static final long SEED = 7;

    @TempDir
    static Path root;
    static Path main;
    static ScenesSummary summary;
    static BrodenDataset data;
    static final List<String> warnings = new ArrayList<>();

    @TempDir
    Path dir;

    @BeforeAll
    static void generate() {
        main = root.resolve("scenes");
        summary = new ScenesGenerator(new ScenesOptions(N, SIZE, SEED, 0.2)).generate(main, false, done -> {
        });
        data = BrodenDataset.open(main, warnings::add);
    }

    private static Path generate(Path out, int images, long seed) {
        new ScenesGenerator(new ScenesOptions(images, SIZE, seed, 0.2)).generate(out, false, done -> {
        });
        return out;
    }

    @Test
    void countsAndSplitsMatchTheSummary() {
        assertEquals(N, data.size());
        assertEquals(N, summary.images());
        long val = data.entries().stream().filter(e -> e.split().equals("val")).count();
        assertTrue(data.entries().stream().allMatch(e -> e.split().equals("train") || e.split().equals("val")));
        assertEquals(summary.val(), val);
        assertEquals(N - val, summary.train());
        assertTrue(val > 0 && val < N / 2, "about a fifth in val, got " + val);
        assertEquals(10, summary.classes());
        assertEquals(SceneConcept.values().length, summary.labels());
        assertTrue(summary.imagesPerSecond() > 0);
    }

    @Test
    void masksAreAtHalfTheImageResolution() {
        for (BrodenEntry e : data.entries()) {
            assertEquals(List.of(SIZE, SIZE, HALF, HALF), List.of(e.ih(), e.iw(), e.sh(), e.sw()), e.image());
            // Every class's thing has parts, drawn large enough to survive the halving at this size.
            assertTrue(e.has("part"), e.image() + " has no part mask");
        }
        for (int i = 0; i < 20; i++) {
            BrodenImage img = data.load(i).orElseThrow();
            assertEquals(3 * SIZE * SIZE, img.pixels().length);
            for (CategoryLabels c : img.concepts().values()) for (int[] m : c.masks()) assertEquals(HALF * HALF, m.length);
            assertFalse(img.concepts().get("object").masks().isEmpty(), "every image has objects");
            assertFalse(img.concepts().get("color").masks().isEmpty(), "every pixel has a colour");
        }
        assertEquals(0, data.skipped(), warnings.toString());
    }

    @Test
    void labelNumbersAgreeAcrossLabelCodeAndIndexTables() {
        assertEquals(SceneConcept.values().length, data.labels().size());
        for (SceneConcept c : SceneConcept.values()) {
            BrodenLabel l = data.label(c.number());
            assertEquals(c.label(), l.name());
            assertEquals(Set.of(c.category()), l.categories().keySet());
            assertEquals(l.frequency(), l.categories().get(c.category()));
        }
        assertEquals(SceneConcept.CATEGORIES, data.categories().stream().map(BrodenCategory::name).toList());
        assertEquals(SceneConcept.CATEGORIES, data.indexCategories());
        for (BrodenCategory cat : data.categories()) {
            List<BrodenCode> codes = data.codes(cat.name());
            assertEquals(cat.count(), codes.size());
            assertEquals(cat.first(), codes.getFirst().number());
            assertEquals(cat.last(), codes.getLast().number());
            for (int k = 0; k < codes.size(); k++) {
                BrodenCode code = codes.get(k);
                BrodenLabel l = data.label(code.number());
                assertEquals(k + 1, code.code());
                assertEquals(l.name(), code.name());
                assertEquals(l.frequency(), code.frequency());
                assertEquals(l.coverage(), code.coverage());
                assertTrue(l.categories().containsKey(cat.name()));
            }
        }
        // Frequencies and coverages recounted from the masks and whole-image labels themselves.
        Map<Integer, Integer> images = new HashMap<>();
        Map<Integer, Long> pixels = new HashMap<>();
        int[] categoryImages = new int[SceneConcept.CATEGORIES.size()];
        for (int i = 0; i < N; i++) {
            Map<String, CategoryLabels> concepts = data.concepts(i);
            Set<Integer> seen = new HashSet<>();
            for (int c = 0; c < SceneConcept.CATEGORIES.size(); c++) {
                String cat = SceneConcept.CATEGORIES.get(c);
                CategoryLabels labels = concepts.get(cat);
                if (!labels.isEmpty()) categoryImages[c]++;
                for (int[] m : labels.masks()) {
                    for (int v : m) {
                        if (v == 0) continue;
                        assertTrue(data.label(v).categories().containsKey(cat), "image " + i + ": label " + v + " in the " + cat + " mask");
                        pixels.merge(v, 1L, Long::sum);
                        seen.add(v);
                    }
                }
                for (int v : labels.imageLabels()) {
                    assertEquals("scene", cat, "only scenes are whole-image labels");
                    seen.add(v);
                }
            }
            assertEquals(1, concepts.get("scene").imageLabels().size(), "one scene per image");
            for (int v : seen) images.merge(v, 1, Integer::sum);
        }
        for (BrodenLabel l : data.labels().values()) {
            assertEquals((int) images.getOrDefault(l.number(), 0), l.frequency(), l.name());
            double coverage = l.categories().containsKey("scene") ? l.frequency() : pixels.getOrDefault(l.number(), 0L) / (double) (HALF * HALF);
            assertEquals(coverage, l.coverage(), 1e-4, l.name());
        }
        for (int c = 0; c < categoryImages.length; c++) assertEquals(categoryImages[c], data.categories().get(c).frequency());
    }

    @Test
    void theSameSeedGivesTheSameBytesAndEachImageDependsOnlyOnSeedAndIndex() throws IOException {
        Path a = generate(dir.resolve("a"), 30, SEED), b = generate(dir.resolve("b"), 30, SEED);
        List<Path> files;
        try (Stream<Path> s = Files.walk(a)) {
            files = s.filter(Files::isRegularFile).map(a::relativize).sorted().toList();
        }
        assertTrue(files.size() > 30 * 5, "images, masks and tables: " + files.size());
        for (Path f : files) assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), f.toString());
        // A longer run starts with the same rows and the same pictures.
        List<String> shortIndex = Files.readAllLines(a.resolve("index.csv")), longIndex = Files.readAllLines(main.resolve("index.csv"));
        assertEquals(shortIndex, longIndex.subList(0, shortIndex.size()));
        for (int i : new int[]{0, 7, 29}) {
            String png = "images/" + ScenesGenerator.imageName(i), mask = "images/" + ScenesGenerator.maskName(i, "object");
            assertArrayEquals(Files.readAllBytes(main.resolve(png)), Files.readAllBytes(a.resolve(png)));
            assertArrayEquals(Files.readAllBytes(main.resolve(mask)), Files.readAllBytes(a.resolve(mask)));
            // Drawing one image alone, on this thread, gives what the parallel run wrote.
            RenderedScene s = new ScenesGenerator(new ScenesOptions(30, SIZE, SEED, 0.2)).render(i);
            assertArrayEquals(ImageCodec.png(s.rgb(), SIZE, SIZE), Files.readAllBytes(a.resolve(png)));
        }
    }

    @Test
    void anotherSeedGivesOtherImages() throws IOException {
        Path c = generate(dir.resolve("c"), 30, SEED + 1);
        String png = "images/" + ScenesGenerator.imageName(0);
        assertFalse(Arrays.equals(Files.readAllBytes(main.resolve(png)), Files.readAllBytes(c.resolve(png))));
        List<String> other = Files.readAllLines(c.resolve("index.csv")), mine = Files.readAllLines(main.resolve("index.csv"));
        assertFalse(other.equals(mine.subList(0, other.size())));
    }

    @Test
    void classesAreBalancedInEverySplit() {
        assertEquals(SceneClass.wordNetClasses(), data.classes());
        for (String split : new String[]{"train", "val"}) {
            int[] count = new int[10];
            int n = 0;
            for (BrodenEntry e : data.entries()) {
                if (!e.split().equals(split)) continue;
                count[data.imageClass(e.index())]++;
                n++;
            }
            for (int c = 0; c < 10; c++) assertEquals(n / 10, count[c], split + " class " + c + ": " + Arrays.toString(count));
        }
    }

    @Test
    void theClassificationViewGivesImagesInUnitRangeWithTheirClasses() {
        Dataset train = data.classification("train");
        assertEquals(summary.train(), train.size());
        assertEquals(SceneClass.wordNetClasses().stream().map(c -> c.wnid()).toList(), train.classes());
        assertEquals(List.of(3, SIZE, SIZE), List.of(train.channels(), train.height(), train.width()));
        for (int i = 0; i < 10; i++) {
            Sample s = train.get(i, null);
            for (float v : s.image()) assertTrue(v >= 0 && v <= 1);
            assertTrue(s.label() >= 0 && s.label() < 10);
        }
    }

    /** The class is not readable from colour: a nearest-centroid guess from the mean RGB stays near chance (10%). */
    @Test
    void theMeanColourDoesNotGiveTheClassAway() {
        double[][] sum = new double[10][3];
        int[] count = new int[10];
        List<double[]> valMeans = new ArrayList<>();
        List<Integer> valLabels = new ArrayList<>();
        for (BrodenEntry e : data.entries()) {
            float[] p = data.pixels(e.index()).orElseThrow();
            double[] m = new double[3];
            for (int c = 0; c < 3; c++) for (int k = 0; k < SIZE * SIZE; k++) m[c] += p[c * SIZE * SIZE + k] / (SIZE * SIZE);
            int label = data.imageClass(e.index());
            if (e.split().equals("train")) {
                for (int c = 0; c < 3; c++) sum[label][c] += m[c];
                count[label]++;
            } else {
                valMeans.add(m);
                valLabels.add(label);
            }
        }
        int right = 0;
        for (int i = 0; i < valMeans.size(); i++) {
            int best = -1;
            double bestD = Double.MAX_VALUE;
            for (int k = 0; k < 10; k++) {
                double d = 0;
                for (int c = 0; c < 3; c++) d += Math.pow(valMeans.get(i)[c] - sum[k][c] / count[k], 2);
                if (d < bestD) {
                    bestD = d;
                    best = k;
                }
            }
            if (best == valLabels.get(i)) right++;
        }
        assertTrue(right < 0.35 * valMeans.size(), right + " of " + valMeans.size());
    }

    @Test
    void scenesAreOnlyWeaklyTiedToClasses() {
        int usual = 0;
        for (BrodenEntry e : data.entries()) {
            SceneClass c = SceneClass.values()[data.imageClass(e.index())];
            if (e.imageLabels().get("scene").getFirst() == c.usualScene().number()) usual++;
        }
        // 30% forced plus a sixth of the rest: about 42%, far from a rule.
        assertTrue(usual > 0.28 * N && usual < 0.56 * N, usual + " of " + N);
    }

    @Test
    void aNonEmptyFolderIsRefusedAndForceReplacesOnlyADataset() throws IOException {
        Path other = dir.resolve("other");
        Files.createDirectories(other);
        Files.writeString(other.resolve("notes.txt"), "keep me");
        ScenesGenerator g = new ScenesGenerator(new ScenesOptions(10, 32, 1, 0.2));
        Exception e = assertThrows(IllegalArgumentException.class, () -> g.generate(other, false, d -> {
        }));
        assertTrue(e.getMessage().contains("is not empty") && e.getMessage().contains("--force"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> g.generate(other, true, d -> {
        }));
        assertTrue(e.getMessage().contains("no index.csv"), e.getMessage());
        assertEquals("keep me", Files.readString(other.resolve("notes.txt")));

        Path ds = generate(dir.resolve("ds"), 10, 1);
        g.generate(ds, true, d -> {
        });
        assertEquals(32, BrodenDataset.open(ds).entry(0).ih(), "replaced by the 32-px set");
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(Set.of("other", "ds"), new HashSet<>(s.map(p -> p.getFileName().toString()).toList()), "no temporary folders left");
        }
        Path empty = Files.createDirectories(dir.resolve("empty"));
        g.generate(empty, false, d -> {
        });
        assertEquals(10, BrodenDataset.open(empty).size(), "an empty folder is filled");
    }

    @Test
    void anInterruptedRunLeavesNoDatasetAndTheNextRunCleansUp() {
        Path out = dir.resolve("set");
        ScenesGenerator g = new ScenesGenerator(new ScenesOptions(20, 32, 1, 0.2));
        assertThrows(IllegalStateException.class, () -> g.generate(out, false, d -> {
            throw new IllegalStateException("interrupted");
        }));
        assertFalse(Files.exists(out), "nothing at the target until the set is complete");
        assertTrue(Files.exists(dir.resolve(".set.partial")), "what was written lies under the hidden partial name");
        g.generate(out, false, d -> {
        });
        assertEquals(20, BrodenDataset.open(out).size());
        assertFalse(Files.exists(dir.resolve(".set.partial")));
    }

    /** How often a scene shows its class's usual scene, and its mean count of distinct object labels. */
    private static double[] usualSceneShareAndObjects(Difficulty d, Path out) {
        int n = 60;
        new ScenesGenerator(new ScenesOptions(n, SIZE, SEED, 0.2, d)).generate(out, false, done -> {
        });
        BrodenDataset b = BrodenDataset.open(out);
        int usual = 0;
        double objects = 0;
        for (int i = 0; i < n; i++) {
            Map<String, CategoryLabels> concepts = b.concepts(i);
            SceneClass cls = SceneComposer.classOf(i);
            if (concepts.get("scene").imageLabels().contains(cls.usualScene().number())) usual++;
            Set<Integer> labels = new HashSet<>();
            for (int[] m : concepts.get("object").masks()) for (int v : m) if (v != 0) labels.add(v);
            objects += labels.size();
        }
        return new double[]{usual / (double) n, objects / n};
    }

    @Test
    void theEasySettingShowsTheUsualSceneMoreOftenAndNoDistractors() {
        double[] standard = usualSceneShareAndObjects(Difficulty.STANDARD, dir.resolve("standard"));
        double[] easy = usualSceneShareAndObjects(Difficulty.EASY, dir.resolve("easy"));
        assertTrue(easy[0] > 0.6 && standard[0] < 0.5, "usual scene: easy " + easy[0] + ", standard " + standard[0]);
        assertTrue(easy[1] < standard[1], "object labels per image: easy " + easy[1] + ", standard " + standard[1]);
        assertEquals(Difficulty.EASY, Difficulty.parse("Easy"));
        assertThrows(IllegalArgumentException.class, () -> Difficulty.parse("hard"));
    }
}
