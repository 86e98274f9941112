package dev.advinterp.experiments.data.broden;

import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.experiments.data.Sample;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BrodenDatasetTest {

    @TempDir
    Path dir;

    private final List<String> warnings = new ArrayList<>();

    private BrodenDataset open() {
        return BrodenDataset.open(dir, warnings::add);
    }

    private void assertError(String... parts) {
        Exception e = assertThrows(IllegalArgumentException.class, this::open);
        for (String p : parts) assertTrue(e.getMessage().contains(p), "'" + p + "' not in: " + e.getMessage());
    }

    @Test
    void readsTheTablesAsNetDissectDefinesThem() throws IOException {
        BrodenFixture.write(dir);
        BrodenDataset d = open();
        assertEquals(List.of("color", "object", "scene", "texture"), d.categories().stream().map(BrodenCategory::name).toList());
        assertEquals(new BrodenCategory("object", 3, 300, 3, 2), d.categories().get(1));
        assertEquals(List.of("color", "object", "material", "part", "scene", "texture"), d.indexCategories());

        BrodenLabel wheel = d.label(4);
        assertEquals(Map.of("object", 1, "part", 1), wheel.categories());
        assertEquals("bus, school", d.label(BrodenFixture.BUS).name(), "a quoted name keeps its comma");
        assertEquals(List.of("red", "crimson"), d.label(1).synonyms());
        assertEquals(0.5, d.label(1).coverage());
        assertEquals(List.of(1, 2, 3), d.codes("object").stream().map(BrodenCode::code).toList());
        assertEquals(BrodenFixture.BUS, d.codes("object").get(2).number());

        assertEquals(2, d.size());
        BrodenEntry a = d.entry(0), b = d.entry(1);
        assertEquals(new BrodenEntry(0, 2, "a.png", "train", 4, 6, 2, 3,
                Map.of("color", List.of("a_color.png"), "object", List.of("a_object.png", "a_object2.png"), "material", List.of(),
                        "part", List.of(), "scene", List.of(), "texture", List.of()),
                Map.of("color", List.of(), "object", List.of(), "material", List.of(), "part", List.of(), "scene", List.of(7),
                        "texture", List.of())), a);
        assertEquals(List.of(7, 8), b.imageLabels().get("scene"));
        assertEquals(List.of(9), b.imageLabels().get("texture"));
        assertTrue(b.has("texture"));
        assertFalse(b.has("color"));
        assertEquals(3, b.line());
        assertTrue(d.classes().isEmpty());
    }

    @Test
    void decodesImagesToRgbChwInUnitRange() throws IOException {
        BrodenFixture.write(dir);
        BrodenDataset d = open();
        float[] a = d.pixels(0).orElseThrow();
        assertEquals(3 * 4 * 6, a.length);
        int[] rgb = BrodenFixture.imageA();
        for (int p = 0; p < 24; p++) {
            assertEquals(((rgb[p] >> 16) & 255) / 255f, a[p]);
            assertEquals(((rgb[p] >> 8) & 255) / 255f, a[24 + p]);
            assertEquals((rgb[p] & 255) / 255f, a[48 + p]);
        }
        float[] b = d.pixels(1).orElseThrow();
        for (float v : b) assertEquals(128 / 255f, v, 3 / 255f, "a flat grey JPEG decodes to grey");
        assertTrue(warnings.isEmpty(), warnings.toString());
    }

    @Test
    void masksAreRedPlus256GreenAndWholeImageLabelsStayNumbers() throws IOException {
        BrodenFixture.write(dir);
        BrodenDataset d = open();
        Map<String, CategoryLabels> a = d.concepts(0);
        assertArrayEquals(new int[]{1, 1, 2, 2, 0, 1}, a.get("color").masks().getFirst());
        List<int[]> objects = a.get("object").masks();
        assertEquals(2, objects.size());
        assertArrayEquals(new int[]{3, 3, 0, BrodenFixture.BUS, BrodenFixture.BUS, 0}, objects.get(0));
        assertTrue(a.get("object").labels(1, 4), "pixel 1 is a wheel in the second object channel");
        assertTrue(a.get("object").labels(1, 3));
        assertFalse(a.get("object").labels(2, 3));
        assertEquals(List.of(7), a.get("scene").imageLabels());
        assertTrue(a.get("scene").labels(5, 7), "a whole-image label covers every pixel");
        assertTrue(a.get("part").isEmpty());
        BrodenImage b = d.load(1).orElseThrow();
        assertEquals(List.of(7, 8), b.concepts().get("scene").imageLabels());
        assertEquals(0, d.skipped());
    }

    @Test
    void classificationNeedsTheClassTables() throws IOException {
        BrodenFixture.write(dir);
        Exception e = assertThrows(IllegalStateException.class, () -> open().classification("train"));
        assertTrue(e.getMessage().contains("classes.csv") && e.getMessage().contains("dissected"), e.getMessage());
    }

    @Test
    void classificationViewOfASplit() throws IOException {
        BrodenFixture.write(dir);
        BrodenFixture.withClasses(dir);
        BrodenDataset d = open();
        assertEquals("n04146614", d.classes().get(1).wnid());
        assertEquals("school bus", d.classes().get(1).lemma());
        Dataset all = d.classification(null), train = d.classification("train");
        assertEquals(2, all.size());
        assertEquals(List.of("n02085620", "n04146614"), all.classes());
        assertEquals(1, train.size());
        Sample s = train.get(0, null);
        assertEquals(1, s.label());
        assertEquals(3, s.c());
        assertEquals(4, s.h());
        assertEquals(6, s.w());
        assertEquals(0, all.get(1, null).label());
        Exception e = assertThrows(IllegalArgumentException.class, () -> d.classification("test"));
        assertTrue(e.getMessage().contains("[train, val]"), e.getMessage());
    }

    @Test
    void aClassificationSetNeedsOneImageSize() throws IOException {
        BrodenFixture.write(dir);
        BrodenFixture.withClasses(dir);
        String index = Files.readString(dir.resolve("index.csv")).replace("sub/b.jpg,val,4,6", "sub/b.jpg,val,8,6");
        Files.writeString(dir.resolve("index.csv"), index);
        Exception e = assertThrows(IllegalArgumentException.class, () -> open().classification(null));
        assertTrue(e.getMessage().contains("index.csv line 3") && e.getMessage().contains("one size"), e.getMessage());
    }

    // ---- bad input ----

    @Test
    void aRowWithTheWrongNumberOfFieldsNamesFileAndLine() throws IOException {
        BrodenFixture.write(dir);
        BrodenFixture.text(dir, "index.csv", """
                image,split,ih,iw,sh,sw,color,object,material,part,scene,texture
                a.png,train,4,6,2,3,a_color.png,a_object.png,,,7,
                sub/b.jpg,val,4,6,2,3,,b_object.png,,7;8,9
                """);
        assertError("index.csv line 3: 11 fields, the header has 12");
    }

    @Test
    void aNonNumericSizeNamesFileLineAndColumn() throws IOException {
        BrodenFixture.write(dir);
        BrodenFixture.text(dir, "index.csv", """
                image,split,ih,iw,sh,sw,color,object,material,part,scene,texture
                a.png,train,big,6,2,3,a_color.png,a_object.png,,,7,
                """);
        assertError("index.csv line 2: ih 'big' is not a whole number");
    }

    @Test
    void aZeroMaskSizeIsAnError() throws IOException {
        BrodenFixture.write(dir);
        BrodenFixture.text(dir, "index.csv", "image,split,ih,iw,sh,sw,scene\na.png,train,4,6,0,3,7\n");
        assertError("index.csv line 2: sh 0 is not a positive size");
    }

    @Test
    void anUnknownWholeImageLabelIsAnError() throws IOException {
        BrodenFixture.write(dir);
        BrodenFixture.text(dir, "index.csv", "image,split,ih,iw,sh,sw,scene\na.png,train,4,6,2,3,\n\nsub/b.jpg,val,4,6,2,3,99\n");
        assertError("index.csv line 4: scene label 99 is not in label.csv");
    }

    @Test
    void aBadCategoryEntryInLabelCsvNamesTheLine() throws IOException {
        BrodenFixture.write(dir);
        String labels = Files.readString(dir.resolve("label.csv")).replace("2,blue,color(1)", "2,blue,color[1]");
        Files.writeString(dir.resolve("label.csv"), labels);
        assertError("label.csv line 3: category entry 'color[1]' is not of the form name(count)");
    }

    @Test
    void aNonNumericCoverageNamesTheLine() throws IOException {
        BrodenFixture.write(dir);
        BrodenFixture.text(dir, "c_scene.csv", "code,number,name,frequency,coverage\n1,7,beach,2,lots\n");
        assertError("c_scene.csv line 2: coverage 'lots' is not a number");
    }

    @Test
    void anUnclosedQuoteNamesTheLineItStartsOn() throws IOException {
        BrodenFixture.write(dir);
        BrodenFixture.text(dir, "c_texture.csv", "code,number,name,frequency,coverage\n1,9,\"striped,1,1.0\n");
        assertError("c_texture.csv line 2: a quoted field is not closed");
    }

    @Test
    void aMissingHeaderColumnIsNamed() throws IOException {
        BrodenFixture.write(dir);
        BrodenFixture.text(dir, "category.csv", "name,first,last,count\ncolor,1,2,2\n");
        assertError("category.csv line 1: the header lacks the column 'frequency'");
    }

    @Test
    void aMissingIndexSaysWhatTheFolderMustHold() throws IOException {
        BrodenFixture.write(dir);
        Files.delete(dir.resolve("index.csv"));
        assertError("index.csv is missing", "A Broden folder holds index.csv, category.csv, label.csv, c_<category>.csv");
    }

    @Test
    void aMissingLabelTableSaysWhatTheFolderMustHold() throws IOException {
        BrodenFixture.write(dir);
        Files.delete(dir.resolve("label.csv"));
        assertError("label.csv is missing", "A Broden folder holds");
    }

    @Test
    void aMissingCategoryCodeTableIsNamed() throws IOException {
        BrodenFixture.write(dir);
        Files.delete(dir.resolve("c_object.csv"));
        assertError("c_object.csv is missing");
    }

    @Test
    void aMissingFolderIsNamed() {
        Path absent = dir.resolve("absent");
        Exception e = assertThrows(IllegalArgumentException.class, () -> BrodenDataset.open(absent, warnings::add));
        assertTrue(e.getMessage().contains(absent + ": no such folder"), e.getMessage());
    }

    @Test
    void aMissingImageIsSkippedWarnedOnceAndCounted() throws IOException {
        BrodenFixture.write(dir);
        Files.delete(dir.resolve("images/a.png"));
        BrodenDataset d = open();
        assertTrue(d.pixels(0).isEmpty());
        assertTrue(d.load(0).isEmpty());
        assertEquals(1, d.skipped());
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.getFirst().contains(dir.resolve("images/a.png").toString()) && warnings.getFirst().contains("no such file")
                && warnings.getFirst().contains("index.csv line 2"), warnings.getFirst());
        assertTrue(d.pixels(1).isPresent(), "the other image still reads");
    }

    @Test
    void aCorruptImageIsSkippedAndCounted() throws IOException {
        BrodenFixture.write(dir);
        byte[] png = Files.readAllBytes(dir.resolve("images/a.png"));
        Files.write(dir.resolve("images/a.png"), Arrays.copyOf(png, png.length / 2));
        BrodenDataset d = open();
        assertTrue(d.pixels(0).isEmpty());
        assertEquals(1, d.skipped());
        assertTrue(warnings.getFirst().contains("a.png") && warnings.getFirst().contains("corrupt"), warnings.toString());
    }

    @Test
    void aCorruptMaskIsLeftOutWarnedAndCounted() throws IOException {
        BrodenFixture.write(dir);
        Files.writeString(dir.resolve("images/a_object2.png"), "not a png at all");
        BrodenDataset d = open();
        Map<String, CategoryLabels> a = d.concepts(0);
        assertEquals(1, a.get("object").masks().size(), "the readable object mask stays");
        assertEquals(1, a.get("color").masks().size());
        assertEquals(1, d.skipped());
        d.concepts(0);
        assertEquals(1, warnings.size(), "warned once: " + warnings);
        assertTrue(warnings.getFirst().contains("a_object2.png") && warnings.getFirst().contains("corrupt"), warnings.getFirst());
    }

    @Test
    void aMissingMaskIsLeftOutAndCounted() throws IOException {
        BrodenFixture.write(dir);
        Files.delete(dir.resolve("images/b_object.png"));
        BrodenDataset d = open();
        assertTrue(d.concepts(1).get("object").masks().isEmpty());
        assertEquals(1, d.skipped());
        assertTrue(warnings.getFirst().contains("b_object.png: no such file"), warnings.getFirst());
    }

    @Test
    void aMaskOfTheWrongSizeIsLeftOut() throws IOException {
        BrodenFixture.write(dir);
        BrodenFixture.image(dir.resolve("images/a_color.png"), "png", new int[24]);
        BrodenDataset d = open();
        assertTrue(d.concepts(0).get("color").masks().isEmpty());
        assertTrue(warnings.getFirst().contains("a_color.png: it is 4×6, index.csv says sh×sw = 2×3"), warnings.getFirst());
    }

    @Test
    void aCorruptImageInAClassificationSetIsMarkedForEvaluationReplacedForTrainingAndCounted() throws IOException {
        BrodenFixture.write(dir);
        BrodenFixture.withClasses(dir);
        Files.writeString(dir.resolve("images/a.png"), "garbage");
        Dataset all = open().classification(null);
        Sample s = all.get(0, null);
        assertFalse(s.readable());
        assertEquals(1, s.label(), "a's own class, never b's");
        assertEquals(1, all.skipped());
        Sample t = all.get(0, new java.util.SplittableRandom(1));
        assertEquals(0, t.label(), "for training, the next image (b, class 0) stands in");
        assertEquals(1, all.skipped(), "counted once per image");
        assertEquals(1, warnings.size());
    }

    @Test
    void classTablesAreCheckedLineByLine() throws IOException {
        BrodenFixture.write(dir);
        BrodenFixture.withClasses(dir);
        BrodenFixture.text(dir, "image_class.csv", "image,class\nsub/b.jpg,5\na.png,1\n");
        assertError("image_class.csv line 2: class 5 is not in 0..1");
        BrodenFixture.text(dir, "image_class.csv", "image,class\na.png,1\n");
        assertError("image 'sub/b.jpg' (index.csv line 3) has no class");
        BrodenFixture.text(dir, "image_class.csv", "image,class\na.png,1\nsub/b.jpg,0\nc.png,0\n");
        assertError("image_class.csv line 4: image 'c.png' is not in index.csv");
        BrodenFixture.text(dir, "classes.csv", "class,wnid,name\n0,dog,Chihuahua\n");
        assertError("classes.csv line 2: wnid 'dog' is not a WordNet noun id");
        Files.delete(dir.resolve("classes.csv"));
        assertError("classes.csv is missing; image classes need both");
    }

    @Test
    void pathsThatLeaveTheImagesFolderAreRefusedWithTheLine() throws IOException {
        BrodenFixture.write(dir);
        BrodenFixture.text(dir, "index.csv", "image,split,ih,iw,sh,sw,scene\na.png,train,4,6,2,3,7\n../../../etc/passwd,val,4,6,2,3,\n");
        assertError("index.csv line 3: the path '../../../etc/passwd' leaves the images/ folder");
        BrodenFixture.text(dir, "index.csv", "image,split,ih,iw,sh,sw,color\n/etc/passwd,val,4,6,2,3,\n");
        assertError("index.csv line 2: the path '/etc/passwd' leaves the images/ folder");
        BrodenFixture.text(dir, "index.csv", "image,split,ih,iw,sh,sw,color\na.png,val,4,6,2,3,sub/../../x.png\n");
        assertError("index.csv line 2: the path 'sub/../../x.png' leaves the images/ folder");
    }

    @Test
    void aSizeBeyondTheLargestSupportedIsRefusedWithTheLine() throws IOException {
        BrodenFixture.write(dir);
        BrodenFixture.text(dir, "index.csv", "image,split,ih,iw,sh,sw,scene\na.png,train,100000,100000,2,3,7\n");
        assertError("index.csv line 2: ih 100000 is over the largest supported side, 8192");
    }
}
