package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.EngineConfig;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.ConvGeometry;
import dev.advinterp.engine.backend.ConvolutionKernels;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The measured choice between two convolution implementations, on stand-ins that only count their
 * calls and take a set time (the real candidates are tested against the im2col reference in
 * DnnlConvolutionTest and WinogradConvTest).
 */
class ConvolutionChoiceTest {
    private static final ConvGeometry G = new ConvGeometry(1, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1);

    /** Counts its calls, each taking {@code millis}. */
    private static final class Stand implements ConvolutionKernels {
        final long nanos;
        int forward, backwardData, backwardFilter;

        Stand(double millis) {
            nanos = (long) (millis * 1e6);
        }

        private void take() {
            long end = System.nanoTime() + nanos;
            while (System.nanoTime() < end) LockSupport.parkNanos(100_000);
        }

        @Override
        public void forward(Tensor x, Tensor w, Tensor bias, ConvGeometry g, Tensor y) {
            forward++;
            take();
        }

        @Override
        public void backwardData(Tensor dy, Tensor w, ConvGeometry g, Tensor dx) {
            backwardData++;
            take();
        }

        @Override
        public void backwardFilter(Tensor x, Tensor dy, ConvGeometry g, Tensor dw, Tensor dbias) {
            backwardFilter++;
            take();
        }
    }

    private static void forwardTimes(ConvolutionChoice c, int calls) {
        for (int i = 0; i < calls; i++) c.forward(null, null, null, G, null);
    }

    @Test
    void theFasterSecondIsChosenAfterTheTrialAndThenRunsAlone() {
        Stand slow = new Stand(4), fast = new Stand(0);
        ConvolutionChoice c = new ConvolutionChoice(slow, fast, (pass, g) -> true);
        try (var on = EngineConfig.override(EngineConfig.current().withConvMeasure(true))) {
            forwardTimes(c, ConvolutionChoice.TRIAL_CALLS);
            assertEquals(ConvolutionChoice.TRIAL_CALLS / 2, slow.forward, "the trial alternates");
            assertEquals(ConvolutionChoice.TRIAL_CALLS / 2, fast.forward);
            forwardTimes(c, 5);
            assertEquals(ConvolutionChoice.TRIAL_CALLS / 2, slow.forward, "after the trial the slower one is not called");
            assertEquals(ConvolutionChoice.TRIAL_CALLS / 2 + 5, fast.forward);
            List<ConvolutionChoice.Choice> choices = c.choices();
            assertEquals(1, choices.size());
            assertTrue(choices.getFirst().second() && choices.getFirst().firstMillis() > choices.getFirst().secondMillis(), choices.toString());
            // each pass is its own trial
            c.backwardFilter(null, null, G, null, null);
            assertEquals(1, slow.backwardFilter);
            assertEquals(0, fast.backwardFilter);
        }
    }

    @Test
    void aSlowerSecondLeavesEveryLaterCallOnTheFirst() {
        Stand first = new Stand(0), second = new Stand(3);
        ConvolutionChoice c = new ConvolutionChoice(first, second, (pass, g) -> true);
        try (var on = EngineConfig.override(EngineConfig.current().withConvMeasure(true))) {
            for (int i = 0; i < ConvolutionChoice.TRIAL_CALLS + 4; i++) c.backwardData(null, null, G, null);
            assertEquals(ConvolutionChoice.TRIAL_CALLS / 2 + 4, first.backwardData);
            assertEquals(ConvolutionChoice.TRIAL_CALLS / 2, second.backwardData);
            assertFalse(c.choices().getFirst().second());
        }
    }

    @Test
    void offOrWhereTheSecondCannotTakeThePassOnlyTheFirstRuns() {
        Stand first = new Stand(3), second = new Stand(0);
        ConvolutionChoice c = new ConvolutionChoice(first, second, (pass, g) -> pass != ConvolutionChoice.Pass.FORWARD);
        try (var off = EngineConfig.override(EngineConfig.current().withConvMeasure(false))) {
            for (int i = 0; i < ConvolutionChoice.TRIAL_CALLS; i++) c.backwardData(null, null, G, null);
        }
        try (var on = EngineConfig.override(EngineConfig.current().withConvMeasure(true))) {
            forwardTimes(c, ConvolutionChoice.TRIAL_CALLS);
        }
        assertEquals(ConvolutionChoice.TRIAL_CALLS, first.backwardData);
        assertEquals(ConvolutionChoice.TRIAL_CALLS, first.forward);
        assertEquals(0, second.forward + second.backwardData);
        assertTrue(c.choices().isEmpty());
    }
}
