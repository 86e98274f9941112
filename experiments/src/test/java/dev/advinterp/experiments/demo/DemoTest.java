package dev.advinterp.experiments.demo;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class DemoTest {

    /** The bars are learnable only with real training: the loss must fall at least 5× and the test accuracy pass 90%. */
    @Test
    void smallCnnLearnsOrientedBarsReproducibly() {
        Demo.Options o = Demo.Options.defaults();
        Demo.Result first = Demo.run(o, null);
        assertTrue(first.lossFactor() >= 5f, "loss fell only " + first.lossFactor() + "× (" + first.initialLoss() + " → " + first.finalLoss() + ")");
        assertTrue(first.testAccuracy() >= 0.90f, "test accuracy " + first.testAccuracy());

        Demo.Result second = Demo.run(o, null);
        assertEquals(first.fingerprint(), second.fingerprint(), "same seed, different parameters");
        assertEquals(first.epochLosses(), second.epochLosses());
    }

    @Test
    void anotherSeedGivesOtherParameters() {
        Demo.Options o = Demo.Options.defaults();
        Demo.Options shorter = new Demo.Options(o.seed(), 256, 64, o.size(), o.batch(), 1, o.lr(), o.momentum(), o.weightDecay(), o.dropout());
        Demo.Options otherSeed = new Demo.Options(7, 256, 64, o.size(), o.batch(), 1, o.lr(), o.momentum(), o.weightDecay(), o.dropout());
        assertNotEquals(Demo.run(shorter, null).fingerprint(), Demo.run(otherSeed, null).fingerprint());
    }

    @Test
    void badOptionsAreRejectedWithTheirValues() {
        Demo.Options o = Demo.Options.defaults();
        var bad = new Demo.Options(o.seed(), 10, o.testImages(), o.size(), 32, o.epochs(), o.lr(), o.momentum(), o.weightDecay(), o.dropout());
        var e = assertThrows(IllegalArgumentException.class, () -> Demo.run(bad, null));
        assertTrue(e.getMessage().contains("trainImages=10"), e.getMessage());
    }
}
