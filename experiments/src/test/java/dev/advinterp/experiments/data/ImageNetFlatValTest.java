package dev.advinterp.experiments.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageNetFlatValTest {
    @TempDir
    Path root;

    Path images() throws IOException {
        Path val = Files.createDirectories(root.resolve("val"));
        for (int i = 1; i <= 4; i++) TestImages.jpeg(val.resolve(String.format("ILSVRC2012_val_%08d.JPEG", i)), TestImages.noise(80 + i, 60, i));
        return val;
    }

    Path labels(String text) throws IOException {
        return Files.writeString(root.resolve("labels.txt"), text);
    }

    @Test
    void wnidsAndIndicesMayBeMixed() throws IOException {
        images();
        Path labels = labels("""
                # file, then a wnid or a 0-based label in torchvision's order
                ILSVRC2012_val_00000003.JPEG n01443537

                ILSVRC2012_val_00000001.JPEG\t65
                ILSVRC2012_val_00000002.JPEG   n15075141
                ILSVRC2012_val_00000004.JPEG 0
                """);
        ImageNetFlatVal d = ImageNetFlatVal.open(root, labels);
        assertEquals("imagenet/val", d.name());
        assertEquals(4, d.size());
        assertArrayEquals(new int[] {65, 999, 1, 0}, new int[] {d.label(0), d.label(1), d.label(2), d.label(3)});
        assertEquals(root.resolve("val").resolve("ILSVRC2012_val_00000001.JPEG"), d.file(0));
        Sample s = d.get(2, null);
        assertEquals(1, s.label());
        assertEquals(3 * 224 * 224, s.image().length);
        assertEquals(1000, d.classes().size());
    }

    @Test
    void aListedButAbsentFileIsMarkedForEvaluationReplacedForTrainingAndCounted() throws IOException {
        images();
        Path labels = labels("ILSVRC2012_val_00000001.JPEG 5\nILSVRC2012_val_00000009.JPEG 6\nILSVRC2012_val_00000002.JPEG 7\n");
        ImageNetFlatVal d = ImageNetFlatVal.open(root, labels);
        // Sorted by name: 1 (label 5), 2 (label 7), then the absent 9.
        assertEquals(3, d.size());
        assertEquals(0, d.skipped());
        Sample s = d.get(2, null);
        assertFalse(s.readable(), "an evaluation never sees another image under index 2");
        assertEquals(6, s.label(), "its own label");
        assertTrue(s.unreadable().contains("ILSVRC2012_val_00000009.JPEG"), s.unreadable());
        assertEquals(1, d.skipped());
        // for training, the next readable image stands in, wrapping around to 1
        Sample t = d.get(2, new java.util.SplittableRandom(3));
        assertTrue(t.readable());
        assertEquals(5, t.label());
        assertArrayEquals(d.get(0, new java.util.SplittableRandom(3)).image(), t.image());
        assertEquals(7, d.get(1, null).label());
        assertEquals(1, d.skipped());
    }

    static void assertLineError(Path labels, int line, String... parts) {
        IOException e = assertThrows(IOException.class, () -> ImageNetFlatVal.open(labels.getParent(), labels));
        assertTrue(e.getMessage().startsWith(labels + " line " + line + ":"), e.getMessage());
        for (String p : parts) assertTrue(e.getMessage().contains(p), "'" + p + "' missing from: " + e.getMessage());
    }

    @Test
    void malformedLinesNameTheFileAndLine() throws IOException {
        images();
        assertLineError(labels("a.JPEG 1\nb.JPEG 2 extra\n"), 2, "two fields", "3 fields");
        assertLineError(labels("\n\n490\n"), 3, "1 field", "ground-truth");
        assertLineError(labels("a.JPEG n99999999\n"), 1, "n99999999", "1000 ImageNet-1k wnids");
        assertLineError(labels("a.JPEG 1000\n"), 1, "outside 0–999");
        assertLineError(labels("a.JPEG -3\n"), 1, "'-3'", "neither a wnid");
        assertLineError(labels("a.JPEG tench\n"), 1, "'tench'");
        assertLineError(labels("a.txt 3\n"), 1, "not an image file name");
        assertLineError(labels("# header\na.JPEG 3\nb.JPEG 4\na.JPEG 5\n"), 4, "a.JPEG", "line 2");
    }

    @Test
    void missingInputsSayWhatIsExpected() throws IOException {
        Path labels = labels("a.JPEG 1\n");
        IOException e = assertThrows(IOException.class, () -> ImageNetFlatVal.open(root, labels));
        assertTrue(e.getMessage().contains(root.resolve("val").toString()) && e.getMessage().contains("--data"), e.getMessage());
        images();
        Path absent = root.resolve("nothing.txt");
        e = assertThrows(IOException.class, () -> ImageNetFlatVal.open(root, absent));
        assertTrue(e.getMessage().contains(absent.toString()) && e.getMessage().contains("file-name wnid"), e.getMessage());
        Path empty = labels("# nothing\n\n");
        assertTrue(assertThrows(IOException.class, () -> ImageNetFlatVal.open(root, empty)).getMessage().contains("no labelled images"));
    }
}
