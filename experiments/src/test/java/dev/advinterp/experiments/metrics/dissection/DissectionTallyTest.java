package dev.advinterp.experiments.metrics.dissection;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** Upsampling, thresholds and IoU against brute-force computations on small random data. */
class DissectionTallyTest {

    /** PIL-style bilinear enlargement at one output pixel, in double, straight from the definition. */
    static double bilinear(float[] map, int off, int h, int w, int sh, int sw, int y, int x) {
        double cy = Math.min(h - 1, Math.max(0, (y + 0.5) * h / sh - 0.5)), cx = Math.min(w - 1, Math.max(0, (x + 0.5) * w / sw - 0.5));
        int y0 = (int) Math.floor(cy), x0 = (int) Math.floor(cx), y1 = Math.min(h - 1, y0 + 1), x1 = Math.min(w - 1, x0 + 1);
        double ty = cy - y0, tx = cx - x0;
        double top = map[off + y0 * w + x0] * (1 - tx) + map[off + y0 * w + x1] * tx;
        double bottom = map[off + y1 * w + x0] * (1 - tx) + map[off + y1 * w + x1] * tx;
        return top * (1 - ty) + bottom * ty;
    }

    @Test
    void upsamplingIsPilsBilinearEnlargement() {
        SplittableRandom r = new SplittableRandom(1);
        for (int[] s : new int[][]{{7, 7, 112, 112}, {4, 4, 32, 32}, {3, 5, 9, 20}, {1, 1, 4, 4}, {8, 8, 8, 8}}) {
            int h = s[0], w = s[1], sh = s[2], sw = s[3];
            float[] map = new float[h * w + 3];
            for (int i = 0; i < map.length; i++) map[i] = (float) r.nextGaussian();
            Upsampler up = new Upsampler(h, w, sh, sw);
            float[] got = up.upsample(map, 3);
            for (int y = 0; y < sh; y++) {
                for (int x = 0; x < sw; x++) assertEquals(bilinear(map, 3, h, w, sh, sw, y, x), got[y * sw + x], 1e-5, java.util.Arrays.toString(s));
            }
            float t = (float) r.nextGaussian() * 0.5f;
            BitMask m = new BitMask(sh * sw);
            boolean any = up.threshold(map, 3, t, m);
            int n = 0;
            for (int p = 0; p < sh * sw; p++) {
                assertEquals(got[p] > t, m.get(p), "pixel " + p);
                if (got[p] > t) n++;
            }
            assertEquals(n > 0, any);
            assertEquals(n, m.count());
        }
        // a 2×2 map enlarged to 4×4: centres at 1/4 and 3/4 of each source pixel
        float[] m = {0, 4, 8, 12};
        float[] up = new Upsampler(2, 2, 4, 4).upsample(m, 0);
        assertArrayEquals(new float[]{0, 1, 3, 4, 2, 3, 5, 6, 6, 7, 9, 10, 8, 9, 11, 12}, up, 1e-6f);
    }

    /** Three categories; labels 0, 1 in category 0, label 2 in category 1, label 3 in category 2. */
    static Concepts concepts() {
        return new Concepts(List.of("color", "object", "scene"), new int[]{1, 2, 3, 4}, List.of("red", "blue", "car", "beach"), new int[]{0, 0, 1, 2});
    }

    @Test
    void iouEqualsABruteForceCountWithTheCategoryRestriction() {
        SplittableRandom r = new SplittableRandom(7);
        Concepts c = concepts();
        int n = 9, units = 5, h = 3, w = 3, sh = 6, sw = 6, px = sh * sw;
        float[] maps = new float[n * units * h * w];
        for (int i = 0; i < maps.length; i++) maps[i] = (float) r.nextDouble();
        float[] thresholds = new float[units];
        for (int u = 0; u < units; u++) thresholds[u] = 0.4f + 0.1f * u;
        List<ImageConcepts> images = new ArrayList<>();
        boolean[][][] lab = new boolean[n][4][px];
        for (int i = 0; i < n; i++) {
            List<Integer> ls = new ArrayList<>();
            List<BitMask> ms = new ArrayList<>();
            boolean[] cats = new boolean[3];
            for (int l = 0; l < 4; l++) {
                if (r.nextInt(3) == 0) continue; // about a third of the labels absent from each image
                BitMask m = new BitMask(px);
                for (int p = 0; p < px; p++) {
                    if (l == 3 || r.nextInt(4) == 0) {
                        m.set(p);
                        lab[i][l][p] = true;
                    }
                }
                ls.add(l);
                ms.add(m);
                cats[c.primary()[l]] = true;
            }
            images.add(new ImageConcepts(ls.stream().mapToInt(Integer::intValue).toArray(), ms.toArray(BitMask[]::new), cats));
        }
        images.set(4, null); // an unreadable image is left out
        DissectionTally tally = new DissectionTally(c, units);
        tally.add(java.util.Arrays.copyOf(maps, 5 * units * h * w), 5, h, w, images.subList(0, 5), sh, sw, thresholds);
        tally.add(java.util.Arrays.copyOfRange(maps, 5 * units * h * w, maps.length), 4, h, w, images.subList(5, 9), sh, sw, thresholds);
        assertEquals(8, tally.images());
        double[] iou = tally.iou();
        for (int u = 0; u < units; u++) {
            for (int l = 0; l < 4; l++) {
                long both = 0, act = 0, truth = 0;
                for (int i = 0; i < n; i++) {
                    if (i == 4) continue;
                    boolean hasCategory = false;
                    for (int k = 0; k < 4; k++) {
                        if (c.primary()[k] != c.primary()[l]) continue;
                        for (int p = 0; p < px; p++) hasCategory |= lab[i][k][p];
                        hasCategory |= images.get(i).labelList().contains(k);
                    }
                    for (int y = 0; y < sh; y++) {
                        for (int x = 0; x < sw; x++) {
                            boolean on = bilinear(maps, (i * units + u) * h * w, h, w, sh, sw, y, x) > thresholds[u];
                            boolean is = lab[i][l][y * sw + x];
                            if (on && is) both++;
                            if (on && hasCategory) act++;
                            if (is) truth++;
                        }
                    }
                }
                double expect = act + truth - both > 0 ? (double) both / (act + truth - both) : 0;
                assertEquals(expect, iou[u * 4 + l], 1e-12, "unit " + u + " label " + l);
            }
        }
        List<UnitDissection> res = tally.results();
        for (UnitDissection d : res) {
            double best = 0;
            for (int l = 0; l < 4; l++) best = Math.max(best, iou[d.unit() * 4 + l]);
            assertEquals(best, d.iou(), 1e-12);
            assertEquals(iou[d.unit() * 4 + d.bestInCategory()[0]], Math.max(iou[d.unit() * 4], iou[d.unit() * 4 + 1]), 1e-12);
        }
    }

    @Test
    void imagesWithoutALabelOfTheCategoryDoNotCountAgainstIt() {
        Concepts c = concepts();
        // one unit, active everywhere on both images; image 0 has a red region, image 1 no colour label at all
        int px = 4;
        BitMask red = new BitMask(px);
        red.set(0);
        red.set(1);
        BitMask beach = new BitMask(px);
        beach.fill();
        List<ImageConcepts> images = List.of(
                new ImageConcepts(new int[]{0, 3}, new BitMask[]{red, beach}, new boolean[]{true, false, true}),
                new ImageConcepts(new int[]{3}, new BitMask[]{beach}, new boolean[]{false, false, true}));
        DissectionTally t = new DissectionTally(c, 1);
        t.add(new float[]{1, 1, 1, 1, 1, 1, 1, 1}, 2, 2, 2, images, 2, 2, new float[]{0.5f});
        double[] iou = t.iou();
        assertEquals(2.0 / 4, iou[0], 1e-12, "red: 2 overlapping of the 4 active pixels of image 0 only");
        assertEquals(1.0, iou[3], 1e-12, "beach covers both images");
        UnitDissection d = t.results().getFirst();
        assertEquals(3, d.label());
        assertTrue(d.aligned(0.04));
    }

    @Test
    void exactThresholdsAreTheQuantileOfEveryPositionAndTheSketchIsClose() {
        SplittableRandom r = new SplittableRandom(3);
        int units = 3, n = 400, h = 16, w = 16;
        float[] maps = new float[n * units * h * w];
        for (int i = 0; i < maps.length; i++) {
            int u = (i / (h * w)) % units;
            double g = r.nextGaussian();
            // three shapes of distribution: Gaussian, ReLU'd (most values 0), heavy-tailed
            maps[i] = (float) (u == 0 ? g : u == 1 ? Math.max(0, g - 1) : Math.exp(2 * g));
        }
        double q = 0.005;
        long per = (long) n * h * w;
        UnitQuantiles exact = UnitQuantiles.create(units, per, q, Long.MAX_VALUE);
        UnitQuantiles sketch = UnitQuantiles.create(units, per, q, 0);
        assertTrue(exact.exact());
        assertFalse(sketch.exact());
        for (int b = 0; b < 4; b++) {
            float[] part = java.util.Arrays.copyOfRange(maps, b * 100 * units * h * w, (b + 1) * 100 * units * h * w);
            exact.add(part, 100, h, w, null);
            sketch.add(part, 100, h, w, null);
        }
        float[] te = exact.thresholds(), ts = sketch.thresholds();
        for (int u = 0; u < units; u++) {
            long above = 0, aboveSketch = 0;
            for (int i = 0; i < n; i++) {
                for (int p = 0; p < h * w; p++) {
                    float v = maps[(i * units + u) * h * w + p];
                    if (v > te[u]) above++;
                    if (v > ts[u]) aboveSketch++;
                }
            }
            double fe = (double) above / per, fs = (double) aboveSketch / per;
            System.out.printf(java.util.Locale.ROOT, "unit %d: fraction above T exact %.5f, REQ sketch %.5f (target %.3f)%n", u, fe, fs, q);
            assertTrue(fe <= q && fe > q * 0.95, "exact: fraction above " + fe);
            // REQ at k = 50 in high-rank-accuracy mode, 102,400 values: the tail fraction within 10% of 0.5%
            assertEquals(q, fs, q * 0.1, "sketch: fraction above " + fs + " (unit " + u + ")");
        }
        assertTrue(sketch.bytes() < exact.bytes() / 20, sketch.bytes() + " vs " + exact.bytes());
    }

    /** Broden at ResNet-18's layer4 gives 63,305 × 49 = 3.1 million values a unit: the sketch must hold its error there. */
    @Test
    void theSketchKeepsTheTopHalfPercentOnMillionsOfValues() {
        SplittableRandom r = new SplittableRandom(11);
        int n = 63_305 * 49;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) Math.max(0, r.nextGaussian() * 2 + 0.5);
        UnitQuantiles sketch = UnitQuantiles.create(1, n, 0.005, 0);
        for (int b = 0; b < n; b += 49 * 64) {
            int len = Math.min(49 * 64, n - b);
            sketch.add(java.util.Arrays.copyOfRange(v, b, b + len), len / 49, 7, 7, null);
        }
        float t = sketch.thresholds()[0];
        long above = 0;
        for (float x : v) if (x > t) above++;
        double f = (double) above / (n / 49 * 49);
        System.out.printf(java.util.Locale.ROOT, "3.1M values: fraction above the sketch's T %.6f (target 0.005), sketch %d bytes%n", f, sketch.bytes());
        assertEquals(0.005, f, 0.0005, "within 10% of the top 0.5%");
    }
}
