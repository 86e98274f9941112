package dev.advinterp.experiments.wordnet;

import dev.advinterp.experiments.data.WordNetClass;
import dev.advinterp.experiments.data.scenes.SceneClass;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

class WordNetGraphTest {
    static final String TABBY = "n02123045", TIGER_CAT = "n02123159", WOLFHOUND = "n02090721", TENCH = "n01440764", WARPLANE = "n04552348";

    static WordNetGraph wn;

    @BeforeAll
    static void load() {
        wn = WordNetGraph.open();
    }

    @AfterAll
    static void close() {
        wn.close();
    }

    @Test
    void knownWordNet30Distances() {
        assertEquals(2, wn.distance(TABBY, TIGER_CAT));
        assertEquals(7, wn.distance(TABBY, WOLFHOUND));
        assertEquals(13, wn.distance(TABBY, TENCH));
        assertEquals(19, wn.distance(TENCH, WARPLANE));
        assertEquals(0, wn.distance(TABBY, TABBY));
        assertEquals(wn.distance(TENCH, TABBY), wn.distance(TABBY, TENCH), "symmetric");
        assertTrue(wn.lemmas(TABBY).contains("tabby"), wn.lemmas(TABBY).toString());
    }

    /** The table of experiments/DATA.md, row by row in SceneClass order. */
    @Test
    void theScenesClassDistancesAreThoseDataMdStates() {
        int[][] table = {
                {0, 9, 4, 14, 15, 17, 13, 13, 16, 15},
                {9, 0, 9, 12, 13, 15, 11, 11, 14, 13},
                {4, 9, 0, 14, 15, 17, 13, 13, 16, 15},
                {14, 12, 14, 0, 5, 7, 11, 11, 14, 13},
                {15, 13, 15, 5, 0, 6, 12, 12, 15, 14},
                {17, 15, 17, 7, 6, 0, 14, 14, 17, 16},
                {13, 11, 13, 11, 12, 14, 0, 2, 12, 11},
                {13, 11, 13, 11, 12, 14, 2, 0, 12, 11},
                {16, 14, 16, 14, 15, 17, 12, 12, 0, 3},
                {15, 13, 15, 13, 14, 16, 11, 11, 3, 0}};
        List<String> wnids = SceneClass.wordNetClasses().stream().map(WordNetClass::wnid).toList();
        ClassDistances d = ClassDistances.compute(wn, wnids);
        for (int i = 0; i < 10; i++) {
            for (int j = 0; j < 10; j++) assertEquals(table[i][j], d.get(i, j), wnids.get(i) + "–" + wnids.get(j));
        }
    }

    @Test
    void aMalformedOrUnknownWnidIsAnErrorNamingIt() {
        var e = assertThrows(IllegalArgumentException.class, () -> wn.distance(TABBY, "n0212304"));
        assertTrue(e.getMessage().contains("'n0212304' is not a WordNet noun id"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> wn.distance("n99999999", TABBY));
        assertTrue(e.getMessage().contains("n99999999 is not a noun synset of WordNet 3.0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ClassDistances.compute(wn, List.of(TABBY, "cat")));
        assertTrue(e.getMessage().startsWith("class 1: 'cat'"), e.getMessage());
    }

    @Test
    void pairsArePrintedInOrderAndABadLineIsNamed() throws IOException {
        StringWriter out = new StringWriter();
        int n = WordNetPairs.run(wn, new BufferedReader(new StringReader("# known values\n" + TABBY + "\t" + TIGER_CAT + "\n\n" + TENCH + "\t" + WARPLANE + "\n")),
                "pairs.tsv", new PrintWriter(out));
        assertEquals(2, n);
        assertEquals(TABBY + "\t" + TIGER_CAT + "\t2\n" + TENCH + "\t" + WARPLANE + "\t19\n", out.toString().replace("\r\n", "\n"));
        StringWriter none = new StringWriter();
        var e = assertThrows(IllegalArgumentException.class, () -> WordNetPairs.run(wn,
                new BufferedReader(new StringReader(TABBY + "\t" + TIGER_CAT + "\n" + TABBY + "\tn00000001\n")), "pairs.tsv", new PrintWriter(none)));
        assertTrue(e.getMessage().startsWith("pairs.tsv line 2: n00000001"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> WordNetPairs.run(wn, new BufferedReader(new StringReader(TABBY + "\n")), "p", new PrintWriter(none)));
        assertTrue(e.getMessage().startsWith("p line 1: expected two wnids"), e.getMessage());
    }

    @Test
    void distancesAreCachedPerClassListAndACorruptCacheIsRecomputed(@TempDir Path cache) throws IOException {
        List<String> classes = List.of(TABBY, TIGER_CAT, TENCH);
        AtomicInteger loads = new AtomicInteger();
        ClassDistances first = ClassDistances.cached(classes, cache, () -> {
            loads.incrementAndGet();
            return WordNetGraph.open();
        });
        ClassDistances again = ClassDistances.cached(classes, cache, () -> {
            throw new AssertionError("a cached class list must not load WordNet");
        });
        assertEquals(1, loads.get());
        assertEquals(first.get(0, 2), again.get(0, 2));
        assertEquals(13, again.get(0, 2));
        try (var files = Files.list(cache)) {
            Path f = files.findFirst().orElseThrow();
            Files.write(f, new byte[]{1, 2, 3});
        }
        ClassDistances fixed = ClassDistances.cached(classes, cache, WordNetGraph::open);
        assertEquals(2, fixed.get(0, 1));
        // another order is another list, with its own file
        ClassDistances other = ClassDistances.cached(List.of(TENCH, TABBY), cache, WordNetGraph::open);
        assertEquals(13, other.get(0, 1));
    }

    @Test
    void similarityIsAGaussianOfTheDistance() {
        ClassDistances d = ClassDistances.compute(wn, List.of(TABBY, TIGER_CAT, TENCH));
        double[] a = d.similarity(1.0);
        assertEquals(1.0, a[0]);
        assertEquals(Math.exp(-4 / 2.0), a[1], 1e-15);
        assertEquals(Math.exp(-169 / 2.0), a[2], 1e-50);
        assertEquals(Math.exp(-4 / 8.0), d.similarity(2.0)[3], 1e-15);
        assertThrows(IllegalArgumentException.class, () -> d.similarity(0));
    }
}
