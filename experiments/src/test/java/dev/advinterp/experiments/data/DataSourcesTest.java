package dev.advinterp.experiments.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The --data specs of the image-file sets, at the model's input size. */
class DataSourcesTest {

    private static void jpeg(Path file, java.awt.image.BufferedImage image) throws IOException {
        Files.createDirectories(file.getParent());
        TestImages.jpeg(file, image);
    }

    @Test
    void imagenetFoldersAtAnyModelSize(@TempDir Path root) throws IOException {
        for (String split : List.of("train", "val")) {
            jpeg(root.resolve(split).resolve("n01440764").resolve("a.JPEG"), TestImages.noise(80, 60, 1));
            jpeg(root.resolve(split).resolve("n02123045").resolve("b.jpg"), TestImages.noise(60, 90, 2));
        }
        Dataset val = DataSources.open("imagenet:" + root, false, 32);
        assertEquals(2, val.size());
        assertEquals(32, val.height());
        assertEquals(1000, val.classes().size(), "labels in the 1000-class order");
        assertEquals(ImageNetClasses.indexOf("n02123045"), val.get(1, null).label());
        assertEquals(224, DataSources.open("imagenet:" + root, true).height(), "torchvision's 224 by default");
        assertEquals(new ImageNetTransform(37, 32), ImageNetTransform.forSize(32), "resize in torchvision's proportion 256/224");
    }

    @Test
    void theFlatValidationSetWithItsLabelsFile(@TempDir Path root) throws IOException {
        Path val = root.resolve("val");
        jpeg(val.resolve("ILSVRC2012_val_00000001.JPEG"), TestImages.noise(70, 50, 3));
        jpeg(val.resolve("ILSVRC2012_val_00000002.JPEG"), TestImages.noise(50, 70, 4));
        Files.writeString(val.resolve("labels.txt"), "ILSVRC2012_val_00000001.JPEG n01751748\nILSVRC2012_val_00000002.JPEG 970\n");
        Dataset d = DataSources.open("imagenet-val:" + val, false, 64);
        assertEquals(2, d.size());
        assertEquals(970, d.get(1, null).label());
        Path other = Files.writeString(root.resolve("gt.txt"), "ILSVRC2012_val_00000001.JPEG 5\n");
        assertEquals(1, DataSources.open("imagenet-val:" + val + "," + other, false, 64).size());
        var e = assertThrows(IllegalArgumentException.class, () -> DataSources.open("imagenet-val:" + val, true, 64));
        assertTrue(e.getMessage().contains("validation set only"), e.getMessage());
    }

    @Test
    void imageFoldersWithAnyClassNames(@TempDir Path root) throws IOException {
        jpeg(root.resolve("cats").resolve("1.jpg"), TestImages.noise(40, 40, 5));
        jpeg(root.resolve("dogs").resolve("2.jpeg"), TestImages.noise(40, 40, 6));
        jpeg(root.resolve("dogs").resolve("3.jpg"), TestImages.noise(40, 40, 7));
        Files.writeString(root.resolve("dogs").resolve("notes.txt"), "not an image");
        Dataset d = DataSources.open("images:" + root, false, 32);
        assertEquals(List.of("cats", "dogs"), d.classes());
        assertEquals(3, d.size());
        assertEquals(1, d.get(2, null).label());
        Path empty = Files.createDirectories(root.resolve("empty"));
        var e = assertThrows(UncheckedIOException.class, () -> DataSources.open("images:" + empty, false, 32));
        assertTrue(e.getMessage().contains("has no class folders"), e.getMessage());
        Files.createDirectories(empty.resolve("a"));
        e = assertThrows(UncheckedIOException.class, () -> DataSources.open("images:" + empty, false, 32));
        assertTrue(e.getMessage().contains("hold no images"), e.getMessage());
        var bad = assertThrows(IllegalArgumentException.class, () -> DataSources.open("images:", false, 32));
        assertTrue(bad.getMessage().contains("name the folder"), bad.getMessage());
    }
}
