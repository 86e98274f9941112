package dev.advinterp.experiments.data;

import dev.advinterp.nn.train.Batch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageNetFolderTest {
    static final String TENCH = "n01440764", GOLDFISH = "n01443537", TOILET_TISSUE = "n15075141";

    @TempDir
    Path root;

    final List<String> warnings = new ArrayList<>();
    final Logger log = Logger.getLogger(ImageFileDataset.class.getName());
    final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            synchronized (warnings) {
                warnings.add(record.getMessage());
            }
        }

        @Override public void flush() { }
        @Override public void close() { }
    };

    @BeforeEach
    void listen() {
        log.addHandler(capture);
    }

    @AfterEach
    void stopListening() {
        log.removeHandler(capture);
    }

    /** train/ with tench (RGB and grey), goldfish (a CMYK one and a corrupt one) and toilet tissue, plus a stray file. */
    Path layout() throws IOException {
        Path train = Files.createDirectories(root.resolve("train"));
        Path tench = Files.createDirectory(train.resolve(TENCH)), goldfish = Files.createDirectory(train.resolve(GOLDFISH));
        Path tissue = Files.createDirectory(train.resolve(TOILET_TISSUE));
        TestImages.jpeg(tench.resolve("b.JPEG"), TestImages.smooth(500, 375));
        TestImages.greyJpeg(tench.resolve("a.jpg"), 300, 400, 90);
        TestImages.adobeJpeg(goldfish.resolve("c.JPEG"), 320, 240, new int[] {255, 0, 0, 0}, false);
        Path whole = TestImages.jpeg(root.resolve("whole.JPEG"), TestImages.noise(200, 150, 9));
        TestImages.truncated(whole, goldfish.resolve("d.JPEG"), 0.5);
        TestImages.jpeg(tissue.resolve("e.JPEG"), TestImages.noise(260, 260, 3));
        Files.writeString(tench.resolve("notes.txt"), "not an image");
        Files.writeString(train.resolve("LOC_synset_mapping.txt"), "stray");
        return train;
    }

    @Test
    void readsTheLayoutInClassThenNameOrder() throws IOException {
        layout();
        ImageNetFolder d = ImageNetFolder.open(root, "train");
        assertEquals("imagenet/train", d.name());
        assertEquals(5, d.size());
        assertEquals(1000, d.classes().size());
        assertEquals(TENCH, d.classes().get(0));
        assertEquals(List.of(3, 224, 224), List.of(d.channels(), d.height(), d.width()));
        List<String> names = new ArrayList<>();
        int[] labels = new int[5];
        for (int i = 0; i < 5; i++) {
            names.add(root.resolve("train").relativize(d.file(i)).toString());
            labels[i] = d.label(i);
        }
        assertEquals(List.of(TENCH + "/a.jpg", TENCH + "/b.JPEG", GOLDFISH + "/c.JPEG", GOLDFISH + "/d.JPEG", TOILET_TISSUE + "/e.JPEG"), names);
        assertArrayEquals(new int[] {0, 0, 1, 1, 999}, labels);
    }

    @Test
    void samplesHaveTheDeclaredShapeAndRange() throws IOException {
        layout();
        ImageNetFolder d = ImageNetFolder.open(root, "train");
        for (int i : new int[] {0, 1, 2, 4}) {
            for (SplittableRandom r : new SplittableRandom[] {null, new SplittableRandom(i)}) {
                Sample s = d.get(i, r);
                assertEquals(3 * 224 * 224, s.image().length);
                assertEquals(d.label(i), s.label());
                for (float v : s.image()) if (!(v >= 0 && v <= 1)) throw new AssertionError("value " + v + " in sample " + i);
            }
        }
        // The grey image has equal channels; the CMYK cyan has little red.
        float[] grey = d.get(0, null).image(), cyan = d.get(2, null).image();
        int plane = 224 * 224, p = 100 * 224 + 100;
        assertEquals(grey[p], grey[plane + p], 1e-6);
        assertEquals(grey[p], grey[2 * plane + p], 1e-6);
        assertEquals(90 / 255f, grey[p], 3 / 255f);
        assertTrue(cyan[p] < 0.25 && cyan[plane + p] > 0.6 && cyan[2 * plane + p] > 0.8, "cyan came out as " + cyan[p] + ", " + cyan[plane + p] + ", " + cyan[2 * plane + p]);
    }

    @Test
    void aCorruptImageIsMarkedForEvaluationAndReplacedByTheNextForTrainingWithOneWarning() throws IOException {
        layout();
        ImageNetFolder d = ImageNetFolder.open(root, "train");
        assertEquals(0, d.skipped());
        Sample s = d.get(3, null);
        assertFalse(s.readable(), "an evaluation read of a corrupt file is marked, never another image under its index");
        assertEquals(d.label(3), s.label());
        assertEquals(1, d.skipped());
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.getFirst().contains(d.file(3).toString()) && warnings.getFirst().contains("imagenet/train"), warnings.getFirst());
        // Known now: replaced again without a second warning, and the training draws are the replacement's own.
        assertArrayEquals(d.get(4, new SplittableRandom(8)).image(), d.get(3, new SplittableRandom(8)).image());
        assertEquals(1, d.skipped());
        assertEquals(1, warnings.size());
    }

    @Test
    void aMissingFileIsReplacedWrappingAroundForTraining() throws IOException {
        layout();
        ImageNetFolder d = ImageNetFolder.open(root, "train");
        Files.delete(d.file(4));
        Sample s = d.get(4, new SplittableRandom(5));
        assertEquals(0, s.label());
        assertArrayEquals(d.get(0, new SplittableRandom(5)).image(), s.image());
        assertEquals(1, d.skipped());
        assertFalse(d.get(4, null).readable());
        assertTrue(warnings.getFirst().contains(d.file(4).toString()), warnings.getFirst());
    }

    @Test
    void noReadableImageAtAllIsAnError() throws IOException {
        Path cls = Files.createDirectories(root.resolve("val").resolve(TENCH));
        Files.writeString(cls.resolve("x.JPEG"), "junk");
        Files.writeString(cls.resolve("y.JPEG"), "junk");
        ImageNetFolder d = ImageNetFolder.open(root, "val");
        assertFalse(d.get(1, null).readable(), "an evaluation gets the image marked");
        var e = assertThrows(IllegalStateException.class, () -> d.get(1, new SplittableRandom(1)));
        assertTrue(e.getMessage().contains("none of the 2 images") && e.getMessage().contains("imagenet/val"), e.getMessage());
        assertEquals(2, d.skipped());
    }

    @Test
    void theLoaderDecodesInParallelWithTheSameBits() throws IOException {
        layout();
        ImageNetFolder d = ImageNetFolder.open(root, "train");
        List<float[]> one = new ArrayList<>(), three = new ArrayList<>();
        for (int workers : new int[] {1, 3}) {
            try (BatchLoader loader = new BatchLoader(d, 2, true, false, 77, Augmentation.none(), true, workers, 2)) {
                for (Iterator<Batch> it = loader.epoch(3); it.hasNext(); ) (workers == 1 ? one : three).add(it.next().images());
            }
        }
        assertEquals(3, one.size());
        for (int b = 0; b < 3; b++) assertArrayEquals(one.get(b), three.get(b), "batch " + b);
        assertEquals(1, d.skipped());
    }

    @Test
    void aFolderThatIsNoImageNetWnidIsNamed() throws IOException {
        Path train = layout();
        Path cats = Files.createDirectory(train.resolve("cats"));
        TestImages.jpeg(cats.resolve("1.JPEG"), TestImages.smooth(10, 10));
        IOException e = assertThrows(IOException.class, () -> ImageNetFolder.open(root, "train"));
        assertTrue(e.getMessage().contains(cats.toString()) && e.getMessage().contains("1000 ImageNet-1k wnids"), e.getMessage());
        Files.delete(cats.resolve("1.JPEG"));
        Files.delete(cats);
        // A real wnid, but of a synset outside the 1000 classes (fish, the tench's ancestor).
        Files.createDirectory(train.resolve("n02512053"));
        assertTrue(assertThrows(IOException.class, () -> ImageNetFolder.open(root, "train")).getMessage().contains("n02512053"));
    }

    @Test
    void aMissingSplitOrFlatLayoutSaysWhatIsExpected() throws IOException {
        IOException e = assertThrows(IOException.class, () -> ImageNetFolder.open(root, "train"));
        assertTrue(e.getMessage().contains(root.resolve("train").toString()) && e.getMessage().contains("<wnid>/*.JPEG"), e.getMessage());
        Path val = Files.createDirectory(root.resolve("val"));
        TestImages.jpeg(val.resolve("ILSVRC2012_val_00000001.JPEG"), TestImages.smooth(10, 10));
        e = assertThrows(IOException.class, () -> ImageNetFolder.open(root, "val"));
        assertTrue(e.getMessage().contains("flat validation layout") && e.getMessage().contains("ImageNetFlatVal"), e.getMessage());
        Files.createDirectory(root.resolve("empty"));
        Files.createDirectory(root.resolve("empty").resolve(TENCH));
        e = assertThrows(IOException.class, () -> ImageNetFolder.open(root, "empty"));
        assertTrue(e.getMessage().contains("hold no .JPEG files"), e.getMessage());
    }
}
