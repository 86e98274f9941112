package dev.advinterp.nn.optim;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class LrScheduleTest {

    @Test
    void aWarmUpRisesLinearlyThenHandsOverToItsScheduleFromThatScheduleEpochZero() {
        LrSchedule s = LrSchedule.parse("warmup:2:cosine", 6);
        LrSchedule cosine = new LrSchedule.Cosine(4, 0f);
        assertEquals(new LrSchedule.Warmup(2, cosine), s, "the cosine runs over the 4 epochs after the warm-up");
        assertEquals(0.1f / 3, s.lr(0.1f, 0), 1e-7f);
        assertEquals(0.2f / 3, s.lr(0.1f, 1), 1e-7f);
        for (int e = 2; e < 6; e++) assertEquals(cosine.lr(0.1f, e - 2), s.lr(0.1f, e), 0f, "epoch " + e);
        assertEquals(0.1f, s.lr(0.1f, 2), 1e-7f, "the full rate right after the warm-up");
        assertTrue(s.lr(0.1f, 5) < s.lr(0.1f, 4), "and annealed after it");
    }

    @Test
    void aWarmUpThatLeavesNoEpochOrIsNoNumberIsAClearError() {
        for (String bad : new String[]{"warmup:0:cosine", "warmup:6:cosine", "warmup:x:cosine", "warmup:2", "warmup:2:sawtooth"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LrSchedule.parse(bad, 6), bad);
            assertTrue(e.getMessage().contains("warmup:1:cosine"), bad + ": " + e.getMessage());
        }
    }
}
