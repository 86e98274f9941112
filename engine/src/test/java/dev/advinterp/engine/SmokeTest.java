package dev.advinterp.engine;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class SmokeTest {
    @Test
    void matmulAndBackward() {
        try (var s = Scope.open(); var tape = Tape.start()) {
            Tensor a = Tensor.of(new float[]{1, 2, 3, 4, 5, 6}, 2, 3);
            Tensor b = Tensor.of(new float[]{1, 0, 0, 1, 1, 1}, 3, 2);
            tape.watch(a);
            Tensor y = Ops.matmul(a, b);
            assertArrayEquals(new float[]{4, 5, 10, 11}, y.toArray());
            Gradients g = tape.backward(Ops.sum(y));
            assertArrayEquals(new float[]{1, 1, 2, 1, 1, 2}, g.of(a).toArray());
        }
    }
}
