package dev.advinterp.experiments.data;

import net.sf.extjwnl.data.POS;
import net.sf.extjwnl.data.Synset;
import net.sf.extjwnl.data.Word;
import net.sf.extjwnl.dictionary.Dictionary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class FashionMnistTest {

    static void assumeInstalled() {
        assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIR), "skipped: " + FashionMnist.DEFAULT_DIR
                + " is absent (apt-get install dataset-fashion-mnist); the synthetic-file tests still ran");
    }

    /** An IDX file of unsigned bytes with the given sizes, optionally gzipped, optionally with a wrong magic. */
    static byte[] idx(int magic, int[] dims, byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(magic);
        for (int d : dims) out.writeInt(d);
        out.write(data);
        return bytes.toByteArray();
    }

    static byte[] gzip(byte[] raw) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = new GZIPOutputStream(bytes)) {
            out.write(raw);
        }
        return bytes.toByteArray();
    }

    /** A small split "t10k" of n 2×3 images whose pixel i of image k is 10k+i, labels k mod 10. */
    static Path smallSet(Path dir, int images, int labels, boolean gzipped) throws IOException {
        byte[] pixels = new byte[images * 6], y = new byte[labels];
        for (int k = 0; k < images; k++) for (int i = 0; i < 6; i++) pixels[k * 6 + i] = (byte) (10 * k + i);
        for (int k = 0; k < labels; k++) y[k] = (byte) (k % 10);
        byte[] img = idx(0x803, new int[] {images, 2, 3}, pixels), lab = idx(0x801, new int[] {labels}, y);
        String ext = gzipped ? ".gz" : "";
        Files.write(dir.resolve("t10k-images-idx3-ubyte" + ext), gzipped ? gzip(img) : img);
        Files.write(dir.resolve("t10k-labels-idx1-ubyte" + ext), gzipped ? gzip(lab) : lab);
        return dir;
    }

    static IOException failure(Path dir) {
        return assertThrows(IOException.class, () -> FashionMnist.test(dir));
    }

    static void assertMentions(Throwable e, String... parts) {
        for (String p : parts) assertTrue(e.getMessage().contains(p), "'" + p + "' missing from: " + e.getMessage());
    }

    @Test
    void readsTheDebianFiles() throws IOException {
        assumeInstalled();
        FashionMnist train = FashionMnist.train(FashionMnist.DEFAULT_DIR), test = FashionMnist.test(FashionMnist.DEFAULT_DIR);
        assertEquals(60_000, train.size());
        assertEquals(10_000, test.size());
        assertEquals("fashion-mnist/train", train.name());
        assertEquals(List.of(1, 28, 28), List.of(train.channels(), train.height(), train.width()));
        // Both splits are balanced: 6000 and 1000 per class.
        for (FashionMnist d : List.of(train, test)) {
            int[] perClass = new int[10];
            for (int i = 0; i < d.size(); i++) perClass[d.label(i)]++;
            for (int c = 0; c < 10; c++) assertEquals(d.size() / 10, perClass[c], d.name() + " class " + c);
        }
        // The well-known first labels of each split (ankle boot, T-shirt, T-shirt, dress, ...).
        int[] first = new int[10];
        for (int i = 0; i < 10; i++) first[i] = train.label(i);
        assertArrayEquals(new int[] {9, 0, 0, 3, 0, 2, 7, 2, 5, 5}, first);
        for (int i = 0; i < 10; i++) first[i] = test.label(i);
        assertArrayEquals(new int[] {9, 2, 1, 1, 6, 1, 4, 6, 5, 7}, first);
        double sum = 0;
        float max = 0;
        for (int i = 0; i < 1000; i++) {
            Sample s = train.get(i, null);
            assertEquals(train.label(i), s.label());
            for (float v : s.image()) {
                if (!(v >= 0 && v <= 1)) throw new AssertionError("pixel " + v + " of image " + i);
                sum += v;
                max = Math.max(max, v);
            }
        }
        assertEquals(1f, max);
        double mean = sum / (1000 * 784);
        assertTrue(mean > 0.25 && mean < 0.33, "mean pixel " + mean + " (Fashion-MNIST's is 0.286)");
    }

    @Test
    void uncompressedCopiesReadTheSame(@TempDir Path dir) throws IOException {
        assumeInstalled();
        for (String f : List.of("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")) {
            try (InputStream in = new GZIPInputStream(Files.newInputStream(FashionMnist.DEFAULT_DIR.resolve(f + ".gz")))) {
                Files.write(dir.resolve(f), in.readAllBytes());
            }
        }
        FashionMnist plain = FashionMnist.test(dir), gz = FashionMnist.test(FashionMnist.DEFAULT_DIR);
        assertEquals(gz.size(), plain.size());
        for (int i : new int[] {0, 1, 4567, 9999}) {
            assertArrayEquals(gz.get(i, null).image(), plain.get(i, null).image());
            assertEquals(gz.label(i), plain.label(i));
        }
    }

    @Test
    void smallFilesGzippedOrNot(@TempDir Path dir) throws IOException {
        for (boolean gz : new boolean[] {false, true}) {
            Path d = Files.createDirectory(dir.resolve("gz-" + gz));
            FashionMnist set = FashionMnist.test(smallSet(d, 12, 12, gz));
            assertEquals(FashionMnist.wordNetClasses().stream().map(WordNetClass::wnid).toList(), set.classes());
            assertEquals(12, set.size());
            assertEquals(List.of(1, 2, 3), List.of(set.channels(), set.height(), set.width()));
            Sample s = set.get(11, null);
            assertEquals(1, s.label());
            assertArrayEquals(new float[] {110 / 255f, 111 / 255f, 112 / 255f, 113 / 255f, 114 / 255f, 115 / 255f}, s.image());
            assertThrows(IndexOutOfBoundsException.class, () -> set.get(12, null));
        }
    }

    @Test
    void aWrongMagicNumberNamesTheFileAndBothNumbers(@TempDir Path dir) throws IOException {
        smallSet(dir, 3, 3, false);
        // The label file under the image file's name.
        Files.copy(dir.resolve("t10k-labels-idx1-ubyte"), dir.resolve("t10k-images-idx3-ubyte"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertMentions(failure(dir), "t10k-images-idx3-ubyte", "0x00000801", "expected 0x00000803", "swapped");
        Files.writeString(dir.resolve("t10k-images-idx3-ubyte"), "<html>Not Found</html>");
        assertMentions(failure(dir), "t10k-images-idx3-ubyte", "0x3C68746D", "no IDX file");
    }

    @Test
    void aTruncatedFileIsNamed(@TempDir Path dir) throws IOException {
        smallSet(dir, 5, 5, false);
        Path images = dir.resolve("t10k-images-idx3-ubyte");
        byte[] whole = Files.readAllBytes(images);
        Files.write(images, java.util.Arrays.copyOf(whole, whole.length - 4));
        assertMentions(failure(dir), images.toString(), "26 of the 30 bytes", "truncated");
        Files.write(images, java.util.Arrays.copyOf(whole, 10));
        assertMentions(failure(dir), images.toString(), "truncated");
        // A gzipped file cut short ends inside the compressed stream.
        Files.delete(images);
        byte[] gz = gzip(whole);
        Files.write(dir.resolve("t10k-images-idx3-ubyte.gz"), java.util.Arrays.copyOf(gz, gz.length - 12));
        assertMentions(failure(dir), "t10k-images-idx3-ubyte.gz", "truncated");
    }

    @Test
    void trailingBytesAreAnError(@TempDir Path dir) throws IOException {
        smallSet(dir, 2, 2, false);
        Path labels = dir.resolve("t10k-labels-idx1-ubyte");
        Files.write(labels, new byte[] {7}, java.nio.file.StandardOpenOption.APPEND);
        assertMentions(failure(dir), labels.toString(), "more bytes than its header declares");
    }

    @Test
    void mismatchedCountsNameBothFiles(@TempDir Path dir) throws IOException {
        smallSet(dir, 5, 4, true);
        assertMentions(failure(dir), "t10k-images-idx3-ubyte.gz", "5 images", "t10k-labels-idx1-ubyte.gz", "4 labels");
    }

    @Test
    void aLabelOutsideTheTenClassesIsNamed(@TempDir Path dir) throws IOException {
        smallSet(dir, 3, 3, false);
        Files.write(dir.resolve("t10k-labels-idx1-ubyte"), idx(0x801, new int[] {3}, new byte[] {1, 10, 2}));
        assertMentions(failure(dir), "t10k-labels-idx1-ubyte", "label 10 of sample 1");
    }

    @Test
    void aMissingDirectoryOrFileSaysHowToGetIt(@TempDir Path dir) throws IOException {
        Path absent = dir.resolve("nowhere");
        assertMentions(assertThrows(IOException.class, () -> FashionMnist.train(absent)),
                absent.toString(), "apt-get install dataset-fashion-mnist", "--data DIR");
        Files.createDirectory(absent);
        smallSet(absent, 2, 2, false);
        Files.delete(absent.resolve("t10k-labels-idx1-ubyte"));
        assertMentions(failure(absent), "t10k-labels-idx1-ubyte.gz", "--data DIR");
    }

    @Test
    void theWordNetTableCoversTheTenClassesInOrder() {
        List<WordNetClass> classes = FashionMnist.wordNetClasses();
        assertEquals(List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
                classes.stream().map(WordNetClass::name).toList());
        Set<String> wnids = new HashSet<>();
        for (WordNetClass c : classes) assertTrue(wnids.add(c.wnid()), "two classes share " + c.wnid());
        for (int i = 0; i < classes.size(); i++) assertEquals(i, classes.get(i).label());
    }

    @Test
    void eachWnidIsAWordNet30SynsetWithItsLemma() throws Exception {
        Dictionary wn = Dictionary.getResourceInstance("/net/sf/extjwnl/data/wordnet/wn30/res_properties.xml");
        try {
            for (WordNetClass c : FashionMnist.wordNetClasses()) {
                Synset s = wn.getSynsetAt(POS.NOUN, c.offset());
                assertNotNull(s, c.name() + ": " + c.wnid() + " is no noun synset of WordNet 3.0");
                List<String> lemmas = s.getWords().stream().map(Word::getLemma).toList();
                assertTrue(lemmas.contains(c.lemma()), c.name() + ": " + c.wnid() + " has lemmas " + lemmas + ", not " + c.lemma());
            }
        } finally {
            wn.close();
        }
    }
}
