package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.ChannelsLast;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.ConvGeometry;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * oneDNN's convolutions against the im2col reference on random geometries: square and oblong
 * kernels, strides and paddings, batch sizes, with and without bias, all three passes.
 */
class DnnlConvolutionTest {

    static float maxRelative(float[] a, float[] b) {
        float scale = 1e-6f, diff = 0;
        for (int i = 0; i < a.length; i++) {
            scale = Math.max(scale, Math.abs(b[i]));
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
        }
        return diff / scale;
    }

    /** The bundled oneDNN, whatever ADVINTERP_DNNL says for the process. */
    static Dnnl.LoadResult bundled() {
        return Dnnl.find("auto", dev.advinterp.engine.EngineConfig.current().cache());
    }

    @Test
    void oneDnnLoadsFromTheMavenJarAndReportsItsVersion() {
        Dnnl.LoadResult r = bundled();
        assertTrue(r.dnnl().isPresent(), "oneDNN did not load: " + r.attempts());
        assertTrue(r.dnnl().get().version().startsWith("3."), r.dnnl().get().version());
        Dnnl.LoadResult off = Dnnl.find("none", dev.advinterp.engine.EngineConfig.current().cache());
        assertTrue(off.dnnl().isEmpty() && off.attempts().getFirst().contains("ADVINTERP_DNNL=none"), off.attempts().toString());
    }

    @Test
    void everyPassAgreesWithTheIm2colReferenceOnRandomGeometries() {
        Dnnl.LoadResult r = bundled();
        Assumptions.assumeTrue(r.dnnl().isPresent(), "oneDNN not loaded: " + r.attempts());
        CpuConv2d reference = new CpuConv2d(CpuBackend.instance().gemmImpl());
        DnnlConvolution dnnl = new DnnlConvolution(r.dnnl().get(), reference, ChannelsLast.Mode.OFF);
        SplittableRandom rnd = new SplittableRandom(11);
        for (int trial = 0; trial < 60; trial++) {
            int kh = 1 + rnd.nextInt(7), kw = trial % 2 == 0 ? kh : 1 + rnd.nextInt(7);
            int sh = 1 + rnd.nextInt(3), sw = trial % 3 == 0 ? sh : 1 + rnd.nextInt(3);
            int ph = rnd.nextInt(kh / 2 + 1), pw = rnd.nextInt(kw / 2 + 1);
            int h = kh + rnd.nextInt(20), w = kw + rnd.nextInt(20);
            ConvGeometry g = new ConvGeometry(1 + rnd.nextInt(5), 1 + rnd.nextInt(24), h, w, 1 + rnd.nextInt(40), kh, kw, sh, sw, ph, pw);
            boolean bias = rnd.nextBoolean();
            String where = g + (bias ? " with bias" : "");
            try (Scope s = Scope.open()) {
                Tensor x = Tensor.randn(trial, 1f, g.n(), g.cIn(), g.h(), g.w());
                Tensor wt = Tensor.randn(100 + trial, 0.2f, g.cOut(), g.cIn(), g.kh(), g.kw());
                Tensor b = bias ? Tensor.randn(200 + trial, 1f, g.cOut()) : null;
                Tensor dy = Tensor.randn(300 + trial, 1f, g.n(), g.cOut(), g.outH(), g.outW());
                Tensor y1 = Tensor.zeros(g.n(), g.cOut(), g.outH(), g.outW()), y2 = Tensor.zeros(g.n(), g.cOut(), g.outH(), g.outW());
                dnnl.forward(x, wt, b, g, y1);
                reference.forward(x, wt, b, g, y2);
                assertTrue(maxRelative(y1.toArray(), y2.toArray()) < 1e-4f, "forward " + where + ": " + maxRelative(y1.toArray(), y2.toArray()));
                Tensor dx1 = Tensor.zeros(g.n(), g.cIn(), g.h(), g.w()), dx2 = Tensor.zeros(g.n(), g.cIn(), g.h(), g.w());
                dnnl.backwardData(dy, wt, g, dx1);
                reference.backwardData(dy, wt, g, dx2);
                assertTrue(maxRelative(dx1.toArray(), dx2.toArray()) < 1e-4f, "backward data " + where + ": " + maxRelative(dx1.toArray(), dx2.toArray()));
                Tensor dw1 = Tensor.zeros(g.cOut(), g.cIn(), g.kh(), g.kw()), dw2 = Tensor.zeros(g.cOut(), g.cIn(), g.kh(), g.kw());
                Tensor db1 = bias ? Tensor.zeros(g.cOut()) : null, db2 = bias ? Tensor.zeros(g.cOut()) : null;
                dnnl.backwardFilter(x, dy, g, dw1, db1);
                reference.backwardFilter(x, dy, g, dw2, db2);
                assertTrue(maxRelative(dw1.toArray(), dw2.toArray()) < 1e-4f, "backward weights " + where + ": " + maxRelative(dw1.toArray(), dw2.toArray()));
                if (bias) assertTrue(maxRelative(db1.toArray(), db2.toArray()) < 1e-4f, "backward bias " + where);
            }
        }
    }

    /**
     * The plans share one workspace for their staging buffers and scratchpads: a plan run again
     * after others have written over that memory still computes the right answer (its handles are
     * set on every call), and the memory is the engine's, counted in its statistics.
     */
    @Test
    void plansShareTheWorkspaceAndStayCorrectWhenInterleaved() {
        Dnnl.LoadResult r = bundled();
        Assumptions.assumeTrue(r.dnnl().isPresent(), "oneDNN not loaded: " + r.attempts());
        CpuConv2d reference = new CpuConv2d(CpuBackend.instance().gemmImpl());
        DnnlConvolution dnnl = new DnnlConvolution(r.dnnl().get(), reference, ChannelsLast.Mode.OFF);
        ConvGeometry big = new ConvGeometry(4, 32, 28, 28, 64, 3, 3, 1, 1, 1, 1), small = new ConvGeometry(2, 16, 9, 9, 32, 3, 3, 2, 2, 1, 1);
        try (Scope s = Scope.open()) {
            for (int round = 0; round < 3; round++) {
                for (ConvGeometry g : new ConvGeometry[]{big, small}) {
                    Tensor x = Tensor.randn(round, 1f, g.n(), g.cIn(), g.h(), g.w());
                    Tensor wt = Tensor.randn(10 + round, 0.2f, g.cOut(), g.cIn(), g.kh(), g.kw());
                    Tensor dy = Tensor.randn(20 + round, 1f, g.n(), g.cOut(), g.outH(), g.outW());
                    Tensor y1 = Tensor.zeros(g.n(), g.cOut(), g.outH(), g.outW()), y2 = Tensor.zeros(g.n(), g.cOut(), g.outH(), g.outW());
                    dnnl.forward(x, wt, null, g, y1);
                    reference.forward(x, wt, null, g, y2);
                    assertTrue(maxRelative(y1.toArray(), y2.toArray()) < 1e-4f, "forward " + g + " round " + round);
                    Tensor dw1 = Tensor.zeros(g.cOut(), g.cIn(), g.kh(), g.kw()), dw2 = Tensor.zeros(g.cOut(), g.cIn(), g.kh(), g.kw());
                    dnnl.backwardFilter(x, dy, g, dw1, null);
                    reference.backwardFilter(x, dy, g, dw2, null);
                    assertTrue(maxRelative(dw1.toArray(), dw2.toArray()) < 1e-4f, "backward weights " + g + " round " + round);
                }
            }
        }
        long largest = dnnl.largestPlanBytes();
        // the forward's output alone is staged in oneDNN's blocked layout (4x64x28x28 floats)
        assertTrue(largest >= 4L * 64 * 28 * 28 * Float.BYTES, "largest plan " + largest + " bytes");
        assertTrue(Workspace.totalBytes() >= largest, "the staging memory is in the engine's count: " + Workspace.totalBytes() + " < " + largest);
    }

    @Test
    void degenerateGeometriesThatOneDnnGetsWrongGoToTheIm2colPath() {
        Dnnl.LoadResult r = bundled();
        Assumptions.assumeTrue(r.dnnl().isPresent(), "oneDNN not loaded: " + r.attempts());
        CpuConv2d reference = new CpuConv2d(CpuBackend.instance().gemmImpl());
        DnnlConvolution dnnl = new DnnlConvolution(r.dnnl().get(), reference, ChannelsLast.Mode.OFF);
        for (int cIn : new int[]{1, 3}) {
            for (int kw : new int[]{3, 5}) {
                for (int sw : new int[]{1, 2}) {
                    ConvGeometry g = new ConvGeometry(2, cIn, 5, 5, 2, 3, kw, 1, sw, 1, 0);
                    assertEquals(!(kw == 5 && sw == 2), DnnlConvolution.oneDnnServes(g), g.toString());
                    try (Scope s = Scope.open()) {
                        Tensor x = Tensor.randn(1, 1f, g.n(), g.cIn(), g.h(), g.w());
                        Tensor wt = Tensor.randn(2, 0.2f, g.cOut(), g.cIn(), g.kh(), g.kw());
                        Tensor y1 = Tensor.zeros(g.n(), g.cOut(), g.outH(), g.outW()), y2 = Tensor.zeros(g.n(), g.cOut(), g.outH(), g.outW());
                        dnnl.forward(x, wt, null, g, y1);
                        reference.forward(x, wt, null, g, y2);
                        assertTrue(maxRelative(y1.toArray(), y2.toArray()) < 1e-4f, g + ": " + maxRelative(y1.toArray(), y2.toArray()));
                    }
                }
            }
        }
    }

    @Test
    void theImageGradientOfFewChannelsGoesToTheIm2colPathAndWiderInputsToOneDnn() {
        Dnnl.LoadResult r = bundled();
        Assumptions.assumeTrue(r.dnnl().isPresent(), "oneDNN not loaded: " + r.attempts());
        CpuConv2d reference = new CpuConv2d(CpuBackend.instance().gemmImpl());
        DnnlConvolution dnnl = new DnnlConvolution(r.dnnl().get(), reference, ChannelsLast.Mode.OFF);
        for (int cIn = 1; cIn <= DnnlConvolution.IM2COL_BACKWARD_DATA_CHANNELS + 2; cIn++) {
            for (ConvGeometry g : List.of(new ConvGeometry(2, cIn, 9, 9, 8, 3, 3, 1, 1, 1, 1), new ConvGeometry(2, cIn, 16, 16, 8, 7, 7, 2, 2, 3, 3))) {
                boolean im2col = cIn <= DnnlConvolution.IM2COL_BACKWARD_DATA_CHANNELS;
                assertEquals(!im2col, DnnlConvolution.oneDnnServesBackwardData(g), g.toString());
                assertTrue(DnnlConvolution.oneDnnServes(g), "the other passes stay on oneDNN: " + g);
                try (Scope s = Scope.open()) {
                    Tensor wt = Tensor.randn(cIn, 0.2f, g.cOut(), g.cIn(), g.kh(), g.kw());
                    Tensor dy = Tensor.randn(10 + cIn, 1f, g.n(), g.cOut(), g.outH(), g.outW());
                    Tensor dx1 = Tensor.zeros(g.n(), g.cIn(), g.h(), g.w()), dx2 = Tensor.zeros(g.n(), g.cIn(), g.h(), g.w());
                    dnnl.backwardData(dy, wt, g, dx1);
                    reference.backwardData(dy, wt, g, dx2);
                    if (im2col) {
                        assertArrayEquals(dx2.toArray(), dx1.toArray(), "the im2col path's own bits: " + g);
                    } else {
                        assertTrue(maxRelative(dx1.toArray(), dx2.toArray()) < 1e-4f, g + ": " + maxRelative(dx1.toArray(), dx2.toArray()));
                    }
                }
            }
        }
    }
}
