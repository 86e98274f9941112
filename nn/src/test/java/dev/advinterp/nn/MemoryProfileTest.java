package dev.advinterp.nn;

import dev.advinterp.nn.models.Architecture;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.models.ModelConfig;
import dev.advinterp.nn.models.Models;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.*;

class MemoryProfileTest {

    /**
     * Checked through the engine's allocation statistics at the README's small setting (batch 64,
     * 32×32): nothing stays allocated after a step, the parameters are counted exactly, the
     * momentum equals the parameters, and the training step's peak holds at least every module
     * output (its backward needs them) but not more than a few times that plus the gradients.
     */
    @ParameterizedTest
    @EnumSource(value = Architecture.class, names = {"ALEXNET", "RESNET18", "VGG16"})
    void trainingStepMemoryIsAccountedAndReleased(Architecture a) {
        int size = a == Architecture.ALEXNET ? 64 : 32;
        try (ImageModel m = Models.create(ModelConfig.small(a, 3, size, 10, 1))) {
            MemoryProfile p = MemoryProfile.measure(m, 16);
            assertEquals(0, p.leakedBytes(), "bytes left allocated after a training step: " + p);
            assertEquals(m.parameterCount() * 4, p.optimizerBytes(), "one momentum float per parameter: " + p);
            long params = m.parameterCount() * 4;
            assertTrue(p.parameterBytes() >= params && p.parameterBytes() < params * 1.01, p.toString());
            assertTrue(p.trainingStepPeakBytes() >= p.moduleOutputBytes(), "the backward must keep the module outputs: " + p);
            assertTrue(p.trainingStepPeakBytes() <= 4 * p.moduleOutputBytes() + 2 * params, "training step uses far more than it should: " + p);
            assertTrue(p.forwardPeakBytes() < p.trainingStepPeakBytes(), p.toString());
        }
    }
}
