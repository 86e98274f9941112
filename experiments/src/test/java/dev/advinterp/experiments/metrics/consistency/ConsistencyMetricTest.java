package dev.advinterp.experiments.metrics.consistency;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Eqs. 1–3 on cases small enough to compute by hand. */
class ConsistencyMetricTest {
    /** Three classes: 0 and 1 close (similarity 0.5), 2 far from both (0). */
    static final double[] A = {
            1.0, 0.5, 0.0,
            0.5, 1.0, 0.0,
            0.0, 0.0, 1.0};

    @Test
    void aSmallCaseByHand() {
        // six images; unit 0 fires on images 0, 1, 2 (real) and on 2, 4, 5 (adversarial); unit 1 on images 3, 4, 5 (real).
        int[] labels = {0, 0, 1, 2, 2, 2};
        float[] real = {
                5, 0,
                4, 0,
                3, 0,
                0, 7,
                0, 8,
                1, 9};
        float[] adv = {
                0, 0,
                0, 0,
                6, 0,
                0, 9,
                5, 0,
                4, 0};
        // top-3: T is the 4th largest real value: unit 0 → 1, unit 1 → 0
        List<UnitConsistency> u = new ConsistencyMetric(A, 3, new ActivationRule.TopK(3), 1).measure(labels, real, adv, 2);
        UnitConsistency u0 = u.get(0), u1 = u.get(1);
        assertEquals(1f, u0.threshold());
        assertEquals(3, u0.realCount());
        // p = (2/3, 1/3, 0): pᵀAp = 4/9·1 + 2·(2/9)·0.5 + 1/9·1 = 7/9
        assertEquals(7.0 / 9, u0.consis(), 1e-12);
        // adversarial: images 2 (class 1), 4 and 5 (class 2) are above T = 1: p = (0, 1/3, 2/3) → 1/9 + 4/9 = 5/9
        assertEquals(3, u0.adversarialCount());
        assertEquals(5.0 / 9, u0.consisAdv(), 1e-12);
        assertArrayEquals(new int[]{2, 1, 0}, u0.realClassCounts());
        assertArrayEquals(new int[]{0, 1, 2}, u0.adversarialClassCounts());
        // unit 1: images 3, 4, 5, all class 2 → 1; adversarially only image 3 is above T = 0 → p = (0, 0, 1) → 1
        assertEquals(0f, u1.threshold());
        assertEquals(1.0, u1.consis(), 1e-12);
        assertEquals(1, u1.adversarialCount());
        assertEquals(1.0, u1.consisAdv(), 1e-12);
        assertEquals("0:2;1:1", UnitConsistency.counts(u0.realClassCounts()));
    }

    @Test
    void aUnitWithTooFewActivatingImagesIsUndefinedAndLeftOutOfTheMeans() {
        int[] labels = {0, 1, 2, 2};
        // unit 0: all four fire strongly; unit 1 never fires (a dead ReLU): no image is strictly above T = 0
        float[] real = {1, 0, 2, 0, 3, 0, 4, 0}, adv = {0, 0, 0, 0, 0, 0, 5, 0};
        ConsistencyMetric m = new ConsistencyMetric(A, 3, new ActivationRule.TopK(3), 2);
        List<UnitConsistency> u = m.measure(labels, real, adv, 2);
        assertTrue(u.get(0).realDefined());
        assertFalse(u.get(0).adversarialDefined(), "one adversarial image is fewer than the minimum of 2");
        assertEquals(1, u.get(0).adversarialCount());
        assertFalse(u.get(1).realDefined(), "a unit that never fires activates no image");
        assertEquals(0, u.get(1).realCount());
        ConsistencySummary s = ConsistencySummary.of("phi", u);
        assertEquals(1, s.realDefined());
        assertEquals(1, s.realUndefined());
        assertEquals(2, s.adversarialUndefined());
        assertEquals(u.get(0).consis(), s.meanConsis(), 1e-12);
        assertTrue(Double.isNaN(s.meanConsisAdv()));
        assertEquals(0, s.bothDefined());
    }

    @Test
    void theQuantileRuleLetsTheTopFractionThrough() {
        ActivationRule q = ActivationRule.parse("quantile:0.01");
        assertEquals(500, q.count(50_000), "ImageNet's 50,000 validation images: the top 500");
        assertEquals(1, q.count(10), "at least one image");
        assertEquals(3, ActivationRule.parse("quantile:0.25").count(10), "⌈2.5⌉");
        assertEquals(7, ActivationRule.parse("topk:7").count(100));
        float[] v = {0.5f, 9, 3, 7, 1};
        assertEquals(3f, ActivationRule.parse("topk:2").threshold(v), "the 3rd largest: 9 and 7 are above it");
        assertEquals(Float.NEGATIVE_INFINITY, ActivationRule.parse("topk:9").threshold(v), "k beyond the set: every image");
        for (String bad : List.of("quantile:0", "quantile:1.5", "topk:0", "topk:x", "top:3", "quantile")) {
            assertThrows(IllegalArgumentException.class, () -> ActivationRule.parse(bad), bad);
        }
    }

    @Test
    void badInputIsNamed() {
        ConsistencyMetric m = new ConsistencyMetric(A, 3, ActivationRule.DEFAULT, 1);
        var e = assertThrows(IllegalArgumentException.class, () -> m.measure(new int[]{0, 3}, new float[2], new float[2], 1));
        assertTrue(e.getMessage().contains("image 1 has label 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> m.measure(new int[]{0, 1}, new float[3], new float[2], 1));
        assertTrue(e.getMessage().contains("need 2 values per set"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ConsistencyMetric(new double[4], 3, ActivationRule.DEFAULT, 1));
    }
}
