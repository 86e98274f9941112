package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.PoolGeometry;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.Optional;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * oneDNN's max and average pooling against CpuPool (itself tested against PyTorch) on random
 * geometries: window, stride and padding per axis, batch and channels; inputs of few distinct
 * values, so that windows hold equal maxima and the choice among them is tested too.
 */
class DnnlPoolingTest {

    private static DnnlPooling pooling() {
        Dnnl.LoadResult r = DnnlConvolutionTest.bundled();
        Assumptions.assumeTrue(r.dnnl().isPresent(), "oneDNN not loaded: " + r.attempts());
        return new DnnlPooling(r.dnnl().get(), new CpuPool(), false); // any implementation: the binding is checked on every machine
    }

    private static Tensor fewValues(long seed, int... dims) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int n = 1;
        for (int d : dims) n *= d;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = rnd.nextInt(4) - 1.5f;
        return Tensor.of(v, dims);
    }

    @Test
    void maxAndAveragePoolingAgreeWithCpuPoolOnRandomGeometries() {
        DnnlPooling dnnl = pooling();
        CpuPool reference = new CpuPool();
        SplittableRandom rnd = new SplittableRandom(5);
        for (int trial = 0; trial < 80; trial++) {
            int kh = 1 + rnd.nextInt(4), kw = trial % 2 == 0 ? kh : 1 + rnd.nextInt(4);
            int sh = 1 + rnd.nextInt(3), sw = trial % 3 == 0 ? sh : 1 + rnd.nextInt(3);
            int ph = rnd.nextInt(kh / 2 + 1), pw = rnd.nextInt(kw / 2 + 1);
            PoolGeometry g = new PoolGeometry(1 + rnd.nextInt(3), 1 + rnd.nextInt(20), kh + rnd.nextInt(15), kw + rnd.nextInt(15), kh, kw, sh, sw, ph, pw);
            try (Scope s = Scope.open()) {
                Tensor x = fewValues(trial, g.n(), g.c(), g.h(), g.w());
                Tensor dy = Tensor.randn(100 + trial, 1f, g.n(), g.c(), g.outH(), g.outW());
                Tensor y1 = Tensor.zeros(g.n(), g.c(), g.outH(), g.outW()), y2 = Tensor.zeros(g.n(), g.c(), g.outH(), g.outW());
                Tensor dx1 = Tensor.zeros(g.n(), g.c(), g.h(), g.w()), dx2 = Tensor.zeros(g.n(), g.c(), g.h(), g.w());
                dnnl.maxForward(x, g, y1);
                reference.maxForward(x, g, y2);
                assertArrayEquals(y2.toArray(), y1.toArray(), "max forward " + g);
                dnnl.maxBackward(x, y1, dy, g, dx1);
                reference.maxBackward(x, y2, dy, g, dx2);
                assertArrayEquals(dx2.toArray(), dx1.toArray(), 1e-5f, "max backward " + g + " (equal maxima: the first takes dy)");
                dnnl.avgForward(x, g, y1);
                reference.avgForward(x, g, y2);
                assertArrayEquals(y2.toArray(), y1.toArray(), 1e-5f, "average forward " + g);
                dnnl.avgBackward(x, y1, dy, g, dx1);
                reference.avgBackward(x, y2, dy, g, dx2);
                assertArrayEquals(dx2.toArray(), dx1.toArray(), 1e-5f, "average backward " + g);
            }
        }
    }

    /** ResNet-18's max pool: oneDNN names its implementation, and the backend's DnnlPooling takes it only if it is a JIT one. */
    @Test
    void theBackendTakesOneDnnsPoolingOnlyWithAJitKernel() {
        DnnlPooling any = pooling();
        DnnlPooling backends = new DnnlPooling(DnnlConvolutionTest.bundled().dnnl().orElseThrow(), new CpuPool());
        for (boolean max : new boolean[]{true, false}) {
            PoolGeometry g = new PoolGeometry(8, 64, 112, 112, 3, 3, 2, 2, 1, 1);
            String implementation = any.implementation(max, g).orElseThrow();
            assertTrue(implementation.matches("[a-z0-9_]+(:[a-z0-9_]+)?"), "an implementation name as oneDNN's verbose log prints it: " + implementation);
            assertEquals(DnnlPooling.isJit(implementation) ? Optional.of(implementation) : Optional.empty(), backends.implementation(max, g),
                    (max ? "max" : "average") + " pooling by " + implementation);
        }
    }

    @Test
    void anInputHoldingNaNGoesToCpuPoolWhichPropagatesIt() {
        DnnlPooling dnnl = pooling();
        PoolGeometry g = new PoolGeometry(1, 2, 6, 6, 3, 3, 2, 2, 1, 1);
        try (Scope s = Scope.open()) {
            float[] v = fewValues(1, 1, 2, 6, 6).toArray();
            v[7] = Float.NaN;
            v[8] = Float.NaN;
            Tensor x = Tensor.of(v, 1, 2, 6, 6), dy = Tensor.randn(2, 1f, 1, 2, 3, 3);
            Tensor y = Tensor.zeros(1, 2, 3, 3), yRef = Tensor.zeros(1, 2, 3, 3), dx = Tensor.zeros(1, 2, 6, 6), dxRef = Tensor.zeros(1, 2, 6, 6);
            dnnl.maxForward(x, g, y);
            new CpuPool().maxForward(x, g, yRef);
            assertTrue(Float.isNaN(y.toArray()[0]), "the window over the NaN is NaN");
            assertArrayEquals(yRef.toArray(), y.toArray());
            dnnl.maxBackward(x, y, dy, g, dx);
            new CpuPool().maxBackward(x, yRef, dy, g, dxRef);
            assertArrayEquals(dxRef.toArray(), dx.toArray());
        }
    }
}
