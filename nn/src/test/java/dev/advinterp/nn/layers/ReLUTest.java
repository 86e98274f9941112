package dev.advinterp.nn.layers;

import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.Activations;
import dev.advinterp.nn.models.Architecture;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.models.ModelConfig;
import dev.advinterp.nn.models.Models;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** The in-place ReLU module: it writes over its input, except an input an {@link Activations} capture holds. */
class ReLUTest {

    @Test
    void inPlaceWritesOverItsInputUnlessCaptured() {
        try (Scope s = Scope.open(); Sequential net = new Sequential(new Conv2d(2, 3, 3, 1, 1, true, new SplittableRandom(1)),
                new ReLU(true))) {
            Tensor x = Tensor.rand(3, -1f, 1f, 1, 2, 4, 4);
            float[] conv;
            try (Activations cap = Activations.capture("0")) {
                Tensor y = net.call(x);
                conv = cap.get("0").toArray();
                boolean someNegative = false;
                for (float v : conv) someNegative |= v < 0;
                assertTrue(someNegative, "the captured convolution output keeps its negative values");
                assertNotSame(cap.get("0").storage(), y.storage());
            }
            Tensor y = net.call(x);
            float[] relu = y.toArray();
            for (int i = 0; i < conv.length; i++) assertEquals(Math.max(0f, conv[i]), relu[i]);
        }
    }

    @Test
    void everyModelsCapturedConvolutionOutputIsLeftAlone() {
        for (Architecture a : new Architecture[]{Architecture.ALEXNET, Architecture.VGG16, Architecture.RESNET18}) {
            ModelConfig c = ModelConfig.small(a, 3, 32, 10, 1);
            try (ImageModel m = Models.create(c); Scope s = Scope.open()) {
                m.eval();
                String conv = a == Architecture.RESNET18 ? "layer1.0.bn1" : "features.0";
                try (Activations cap = Activations.capture(conv)) {
                    m.call(Tensor.rand(5, -1f, 1f, 2, 3, 32, 32));
                    boolean someNegative = false;
                    for (float v : cap.get(conv).toArray()) someNegative |= v < 0;
                    assertTrue(someNegative, a + " " + conv + " holds its own values, not the ReLU's");
                }
            }
        }
    }
}
