package dev.advinterp.experiments.data;

import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageNetTransformTest {
    static final ImageNetTransform T = ImageNetTransform.STANDARD;

    static RgbImage image(BufferedImage b) {
        return RgbImage.of(b);
    }

    /** Channel {@code c} at (x, y) of a [3, size, size] output. */
    static float at(float[] chw, int size, int c, int x, int y) {
        return chw[(c * size + y) * size + x];
    }

    static void assertInUnitRange(float[] v) {
        for (int i = 0; i < v.length; i++) {
            if (!(v[i] >= 0 && v[i] <= 1)) throw new AssertionError("value " + i + " is " + v[i]);
        }
    }

    @Test
    void sizesFollowTorchvision() {
        assertArrayEquals(new int[] {341, 256}, T.resizedSize(500, 375));
        assertArrayEquals(new int[] {256, 341}, T.resizedSize(375, 500));
        assertArrayEquals(new int[] {256, 256}, T.resizedSize(80, 80));
        assertArrayEquals(new int[] {2560, 256}, T.resizedSize(1000, 100));
        // Python's round halves to even: (341 − 224) / 2 = 58.5 gives 58, (343 − 224) / 2 = 59.5 gives 60.
        assertEquals(new ImageNetTransform.Box(58, 16, 224, 224), T.centerCrop(341, 256));
        assertEquals(new ImageNetTransform.Box(16, 60, 224, 224), T.centerCrop(256, 343));
        assertThrows(IllegalArgumentException.class, () -> new ImageNetTransform(100, 224));
    }

    @Test
    void evaluationGivesTheCropSizeInTheUnitRange() {
        for (int[] wh : new int[][] {{500, 375}, {375, 500}, {224, 224}, {100, 60}, {1200, 300}}) {
            float[] out = T.evaluation(image(TestImages.noise(wh[0], wh[1], wh[0])));
            assertEquals(3 * 224 * 224, out.length, wh[0] + "×" + wh[1]);
            assertInUnitRange(out);
        }
        ImageNetTransform small = new ImageNetTransform(36, 32);
        assertEquals(3 * 32 * 32, small.evaluation(image(TestImages.noise(50, 40, 1))).length);
    }

    @Test
    void aShorterSideOf256IsCroppedWithoutResampling() {
        BufferedImage src = TestImages.noise(256, 300, 7);
        float[] out = T.evaluation(image(src));
        // Resize is the identity; the crop starts at (16, 38).
        for (int y = 0; y < 224; y += 37) {
            for (int x = 0; x < 224; x += 29) {
                int rgb = src.getRGB(16 + x, 38 + y);
                assertEquals((rgb >> 16 & 0xff) / 255f, at(out, 224, 0, x, y), 1e-6);
                assertEquals((rgb >> 8 & 0xff) / 255f, at(out, 224, 1, x, y), 1e-6);
                assertEquals((rgb & 0xff) / 255f, at(out, 224, 2, x, y), 1e-6);
            }
        }
    }

    @Test
    void centreCropGeometryOnAGradientWithEdges() {
        // 500×375 resizes to 341×256; the crop starts at column 58 (58.5 rounded to even) and row 16.
        // Red: an edge at source column 250, which lands at resized 170.5, the centre of crop column 112.
        // Green: an edge at source row 188, resized 128.3: crop row 112 is mostly bright.
        // Blue: a horizontal gradient, whose mean must stay centred.
        BufferedImage src = TestImages.rgb(500, 375, (x, y) -> (x >= 250 ? 255 : 0) << 16 | (y >= 188 ? 255 : 0) << 8 | (x * 255 / 499));
        float[] out = T.evaluation(image(src));
        assertEquals(0.5, at(out, 224, 0, 112, 100), 1e-4, "the edge is not centred on crop column 112");
        assertTrue(at(out, 224, 0, 110, 100) < 0.05 && at(out, 224, 0, 114, 100) > 0.95, "the red edge is blurred over more than 4 columns");
        assertEquals(0, at(out, 224, 0, 0, 0), 1e-6);
        assertEquals(1, at(out, 224, 0, 223, 223), 1e-6);
        assertTrue(at(out, 224, 1, 50, 110) < 0.05 && at(out, 224, 1, 50, 114) > 0.95);
        float row112 = at(out, 224, 1, 50, 112);
        assertTrue(row112 > 0.5 && row112 < 1, "row 112 is " + row112);
        // Blue at crop column x samples source column (58 + x + 0.5) · 500/341 − 0.5.
        for (int x : new int[] {10, 100, 200}) {
            double sx = (58 + x + 0.5) * 500.0 / 341 - 0.5;
            assertEquals(sx / 499, at(out, 224, 2, x, 50), 2.5 / 255, "blue at column " + x);
        }
    }

    /** A direct resize of the whole image by PIL's formulas, in double precision: the reference for the cropped path. */
    static double[][][] referenceResize(RgbImage img, int x0, int y0, int bw, int bh, int ow, int oh) {
        double[][][] horizontal = new double[3][bh][ow];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < bh; y++) {
                int cc = c, yy = y;
                for (int o = 0; o < ow; o++) horizontal[c][y][o] = filter(bw, ow, o, i -> img.get(x0 + i, y0 + yy, cc));
            }
        }
        double[][][] out = new double[3][oh][ow];
        for (int c = 0; c < 3; c++) {
            for (int o = 0; o < oh; o++) {
                for (int x = 0; x < ow; x++) {
                    int cc = c, xx = x;
                    out[c][o][x] = filter(bh, oh, o, i -> horizontal[cc][i][xx]) / 255;
                }
            }
        }
        return out;
    }

    private static double filter(int inSize, int outSize, int o, java.util.function.IntToDoubleFunction value) {
        double scale = (double) inSize / outSize, fs = Math.max(1, scale);
        double center = (o + 0.5) * scale, sum = 0, acc = 0;
        for (int i = 0; i < inSize; i++) {
            double d = Math.abs((i + 0.5 - center) / fs);
            if (d < 1) {
                sum += 1 - d;
                acc += (1 - d) * value.applyAsDouble(i);
            }
        }
        return acc / sum;
    }

    @Test
    void theCroppedPathEqualsAFullResizeThenCrop() {
        RgbImage img = image(TestImages.noise(150, 97, 11));
        ImageNetTransform t = new ImageNetTransform(64, 56);
        int[] size = t.resizedSize(150, 97);
        ImageNetTransform.Box box = t.centerCrop(size[0], size[1]);
        double[][][] full = referenceResize(img, 0, 0, 150, 97, size[0], size[1]);
        float[] out = t.evaluation(img);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 56; y++) {
                for (int x = 0; x < 56; x++) {
                    assertEquals(full[c][box.top() + y][box.left() + x], at(out, 56, c, x, y), 1e-4, "c" + c + " (" + x + "," + y + ")");
                }
            }
        }
        // An upscale, where the filter keeps its unit support.
        double[][][] up = referenceResize(img, 20, 10, 30, 40, 56, 56);
        float[] upOut = Resampler.resample(img, Resampler.Axis.of(20, 30, 56, 0, 56), Resampler.Axis.of(10, 40, 56, 0, 56));
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 56; y += 5) for (int x = 0; x < 56; x += 3) assertEquals(up[c][y][x], at(upOut, 56, c, x, y), 1e-4);
        }
    }

    @Test
    void downscalingAveragesRatherThanAliases() {
        // One-pixel black and white stripes: a sampling resize gives stripes or flat black or white; an area average gives grey.
        float[] out = T.evaluation(image(TestImages.rgb(1000, 1000, (x, y) -> (x % 2 == 0) ? 0xffffff : 0)));
        float min = 1, max = 0;
        for (float v : out) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        assertTrue(min > 0.45 && max < 0.55, "grey levels from " + min + " to " + max);
    }

    @Test
    void randomResizedCropBoxesStayInsideWithinTheRanges() {
        SplittableRandom r = new SplittableRandom(1);
        double minFraction = 1, maxFraction = 0;
        for (int i = 0; i < 5000; i++) {
            int w = 50 + r.nextInt(600), h = 50 + r.nextInt(600);
            ImageNetTransform.Box b = ImageNetTransform.randomResizedCropBox(w, h, r);
            assertTrue(b.left() >= 0 && b.top() >= 0 && b.left() + b.width() <= w && b.top() + b.height() <= h, b + " outside " + w + "×" + h);
            double fraction = (double) b.width() * b.height() / ((double) w * h), aspect = (double) b.width() / b.height();
            if (b.width() == w && b.height() == h) continue; // the fallback
            minFraction = Math.min(minFraction, fraction);
            maxFraction = Math.max(maxFraction, fraction);
            // Rounding of the sides moves the area and the aspect a little past the bounds on small boxes.
            assertTrue(fraction > 0.08 * 0.85 && fraction < 1.0001 + 3.0 / Math.min(w, h), "area fraction " + fraction);
            assertTrue(aspect > 0.75 * 0.9 && aspect < 4.0 / 3 * 1.1, "aspect " + aspect + " of " + b);
        }
        assertTrue(minFraction < 0.1 && maxFraction > 0.9, "fractions from " + minFraction + " to " + maxFraction);
    }

    @Test
    void randomResizedCropFallsBackToTheCentre() {
        // Ten tries cannot fit a box of aspect ≥ 3/4 and ≥ 8 % of the area into 1000×10.
        SplittableRandom r = new SplittableRandom(5);
        assertEquals(new ImageNetTransform.Box(493, 0, 13, 10), ImageNetTransform.randomResizedCropBox(1000, 10, r));
        assertEquals(new ImageNetTransform.Box(0, 493, 10, 13), ImageNetTransform.randomResizedCropBox(10, 1000, r));
    }

    @Test
    void trainingIsReproducibleAndFlipsHalfTheTime() {
        // Red rises left to right: its mean over the left and right thirds tells a flip.
        RgbImage img = image(TestImages.rgb(300, 200, (x, y) -> (x * 255 / 299) << 16 | 0x2040));
        int flips = 0;
        for (int seed = 0; seed < 200; seed++) {
            float[] a = T.training(img, new SplittableRandom(seed)), b = T.training(img, new SplittableRandom(seed));
            assertArrayEquals(a, b, "seed " + seed);
            assertEquals(3 * 224 * 224, a.length);
            assertInUnitRange(a);
            if (at(a, 224, 0, 10, 100) > at(a, 224, 0, 213, 100)) flips++;
        }
        assertTrue(flips > 70 && flips < 130, flips + " of 200 flipped");
        assertFalse(Arrays.equals(T.training(img, new SplittableRandom(1)), T.training(img, new SplittableRandom(2))));
    }

    @Test
    void aFlippedTrainingCropIsTheMirrorOfTheUnflippedOne() {
        RgbImage img = image(TestImages.noise(120, 90, 4));
        Resampler.Axis xs = Resampler.Axis.of(10, 80, 32, 0, 32), ys = Resampler.Axis.of(5, 70, 32, 0, 32);
        float[] plain = Resampler.resample(img, xs, ys), mirrored = Resampler.resample(img, xs.reversed(), ys);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 32; y++) for (int x = 0; x < 32; x++) assertEquals(at(plain, 32, c, x, y), at(mirrored, 32, c, 31 - x, y));
        }
    }
}
