package dev.advinterp.engine;

import dev.advinterp.engine.GradCheck.Input;
import dev.advinterp.engine.backend.ConvGeometry;
import dev.advinterp.engine.backend.cpu.CpuWinograd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.SplittableRandom;
import java.util.stream.Stream;

import static dev.advinterp.engine.TestData.normal;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Convolutions that the CPU backend sends through Winograd on its own (3×3, stride 1, at least
 * 16 channels in and out), through {@link Ops#conv2d} and the tape: the forward against
 * {@link Ref64}, both gradients against central differences. Partial tiles, padding 0, 1 and 2
 * (backward data Winograd too), unequal padding and padding 3 (backward data by im2col, the other
 * two passes by Winograd) and a batch split over the threads. Winograd is switched on for these
 * tests whatever {@code advinterp.conv.winograd} says.
 */
class WinogradConvTest {

    record Case(int n, int cIn, int cOut, int h, int w, int ph, int pw, boolean withBias, long seed) {
    }

    static Stream<Case> cases() {
        return Stream.of(
                new Case(1, 16, 16, 5, 5, 1, 1, true, 1),     // 400 inputs: every partial derivative checked
                new Case(2, 17, 19, 7, 9, 1, 1, false, 2),    // odd sizes: partial tiles
                new Case(3, 16, 21, 6, 5, 0, 0, true, 3),     // no padding
                new Case(2, 18, 16, 5, 6, 2, 1, false, 4),    // padding 2 and 1
                new Case(1, 16, 17, 4, 4, 3, 3, true, 5),     // padding 3
                new Case(4, 20, 16, 8, 8, 1, 1, true, 6));    // a batch split over the threads
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void winogradConvolutionsMatchTheReferenceAndFiniteDifferences(Case c) {
        ConvGeometry g = new ConvGeometry(c.n(), c.cIn(), c.h(), c.w(), c.cOut(), 3, 3, 1, 1, c.ph(), c.pw());
        try (var on = EngineConfig.override(EngineConfig.current().withWinograd(true, 2))) {
            check(c, g);
        }
    }

    /** With Winograd switched off the same convolutions go by im2col. */
    @Test
    void switchedOffWinogradTakesNoConvolution() {
        ConvGeometry g = new ConvGeometry(1, 16, 5, 5, 16, 3, 3, 1, 1, 1, 1);
        try (var off = EngineConfig.override(EngineConfig.current().withWinograd(false, 2))) {
            assertFalse(CpuWinograd.appliesForward(g) || CpuWinograd.appliesBackwardData(g) || CpuWinograd.appliesBackwardFilter(g));
        }
        try (var on = EngineConfig.override(EngineConfig.current().withWinograd(true, 2))) {
            assertTrue(CpuWinograd.appliesForward(g));
        }
    }

    private static void check(Case c, ConvGeometry g) {
        assertTrue(CpuWinograd.appliesForward(g) && CpuWinograd.appliesBackwardFilter(g), "Winograd must take " + g);
        assertTrue(CpuWinograd.appliesBackwardData(g) == (c.ph() <= 2 && c.pw() <= 2), "backward data route of " + g);

        SplittableRandom r = new SplittableRandom(c.seed());
        float[] x = normal(r, c.n() * c.cIn() * c.h() * c.w(), 1);
        float[] wt = normal(r, c.cOut() * c.cIn() * 9, 1 / Math.sqrt(9.0 * c.cIn()));
        float[] b = normal(r, c.cOut(), 1);
        Input xi = Input.diff("x", x, c.n(), c.cIn(), c.h(), c.w()), wi = Input.diff("weight", wt, c.cOut(), c.cIn(), 3, 3);
        String name = "winograd " + c;
        if (c.withBias()) {
            GradCheck.check(name, c.seed(), t -> Ops.conv2d(t[0], t[1], t[2], 1, 1, c.ph(), c.pw()),
                    in -> Ref64.conv2d(in[0], in[1], in[2], c.n(), c.cIn(), c.h(), c.w(), c.cOut(), 3, 3, 1, 1, c.ph(), c.pw()),
                    xi, wi, Input.diff("bias", b, c.cOut()));
        } else {
            GradCheck.check(name, c.seed(), t -> Ops.conv2d(t[0], t[1], null, 1, 1, c.ph(), c.pw()),
                    in -> Ref64.conv2d(in[0], in[1], null, c.n(), c.cIn(), c.h(), c.w(), c.cOut(), 3, 3, 1, 1, c.ph(), c.pw()),
                    xi, wi);
        }
    }
}
