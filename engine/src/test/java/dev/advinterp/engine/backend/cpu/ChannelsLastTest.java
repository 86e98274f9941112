package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.ChannelsLast;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.ConvGeometry;
import dev.advinterp.engine.backend.PoolGeometry;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

import static dev.advinterp.engine.backend.cpu.DnnlConvolutionTest.maxRelative;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Activations stored channels-last: read back as NCHW by anyone who does not ask for the stored
 * layout, and the kernels that keep them so (oneDNN's convolutions, batch norm, ReLU, the sums,
 * global average pooling) computing what their NCHW versions compute.
 */
class ChannelsLastTest {

    /** Stores t's values NHWC in its own storage and marks it so: what a channels-last kernel leaves behind. */
    static Tensor storeNhwc(Tensor t) {
        int n = t.dim(0), c = t.dim(1), h = t.dim(2), w = t.dim(3);
        float[] v = t.toArray();
        MemorySegment s = t.segmentAsStored();
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
                for (int p = 0; p < h * w; p++) s.setAtIndex(ValueLayout.JAVA_FLOAT, ((long) i * h * w + p) * c + ch, v[(i * c + ch) * h * w + p]);
        t.storeAs(CpuChannelsLast.layout(n, c, h, w));
        return t;
    }

    @Test
    void aChannelsLastStorageReadsBackAsNchwAndIsRewrittenOnce() {
        try (Scope s = Scope.open()) {
            for (int c : new int[]{1, 5, 16, 19, 40}) {
                Tensor t = Tensor.randn(c, 1f, 2, c, 3, 5);
                float[] expected = t.toArray();
                storeNhwc(t);
                assertNotNull(t.storedLayout());
                if (c > 1) assertNotEquals(expected[1], t.segmentAsStored().getAtIndex(ValueLayout.JAVA_FLOAT, 1), "stored NHWC, c=" + c);
                assertArrayEquals(expected, t.toArray(), "c=" + c);
                assertNull(t.storedLayout(), "rewritten into NCHW by the first row-major read");
                assertArrayEquals(expected, t.toArray());
            }
        }
    }

    @Test
    void aViewOfTheStorageSeesNchwToo() {
        try (Scope s = Scope.open()) {
            Tensor t = Tensor.randn(3, 1f, 2, 7, 3, 3);
            float[] expected = t.toArray();
            storeNhwc(t);
            Tensor flat = dev.advinterp.engine.Ops.reshape(t, 2, 63);
            assertNull(ChannelsLast.of(flat), "a view of another shape is not read channels-last");
            assertArrayEquals(expected, flat.toArray());
        }
    }

    @Test
    void convolutionsOnChannelsLastAgreeWithTheReferenceAndLeaveTheirOutputsChannelsLast() {
        Dnnl.LoadResult r = DnnlConvolutionTest.bundled();
        Assumptions.assumeTrue(r.dnnl().isPresent(), "oneDNN not loaded: " + r.attempts());
        CpuConv2d reference = new CpuConv2d(CpuBackend.instance().gemmImpl());
        DnnlConvolution dnnl = new DnnlConvolution(r.dnnl().get(), reference, ChannelsLast.Mode.ON);
        SplittableRandom rnd = new SplittableRandom(5);
        for (int trial = 0; trial < 30; trial++) {
            int k = 1 + 2 * rnd.nextInt(3), stride = 1 + rnd.nextInt(2), pad = rnd.nextInt(k / 2 + 1);
            int h = k + rnd.nextInt(12), w = k + rnd.nextInt(12);
            ConvGeometry g = new ConvGeometry(1 + rnd.nextInt(4), 1 + rnd.nextInt(40), h, w, 1 + rnd.nextInt(40), k, k, stride, stride, pad, pad);
            boolean xNhwc = trial % 2 == 0, dyNhwc = trial % 3 != 0, bias = trial % 4 == 1;
            String where = g + (xNhwc ? ", x NHWC" : ", x NCHW") + (dyNhwc ? ", dy NHWC" : ", dy NCHW");
            try (Scope s = Scope.open()) {
                Tensor x = Tensor.randn(trial, 1f, g.n(), g.cIn(), g.h(), g.w());
                Tensor wt = Tensor.randn(100 + trial, 0.2f, g.cOut(), g.cIn(), g.kh(), g.kw());
                Tensor b = bias ? Tensor.randn(200 + trial, 1f, g.cOut()) : null;
                Tensor dy = Tensor.randn(300 + trial, 1f, g.n(), g.cOut(), g.outH(), g.outW());
                Tensor y2 = Tensor.zeros(g.n(), g.cOut(), g.outH(), g.outW()), dx2 = Tensor.zeros(g.n(), g.cIn(), g.h(), g.w());
                Tensor dw2 = Tensor.zeros(g.cOut(), g.cIn(), g.kh(), g.kw()), db2 = bias ? Tensor.zeros(g.cOut()) : null;
                reference.forward(x, wt, b, g, y2);
                reference.backwardData(dy, wt, g, dx2);
                reference.backwardFilter(x, dy, g, dw2, db2);
                Tensor xs = xNhwc ? storeNhwc(x.copy()) : x, dys = dyNhwc ? storeNhwc(dy.copy()) : dy;
                Tensor y1 = Tensor.zeros(g.n(), g.cOut(), g.outH(), g.outW()), dx1 = Tensor.zeros(g.n(), g.cIn(), g.h(), g.w());
                Tensor dw1 = Tensor.zeros(g.cOut(), g.cIn(), g.kh(), g.kw()), db1 = bias ? Tensor.zeros(g.cOut()) : null;
                dnnl.forward(xs, wt, b, g, y1);
                dnnl.backwardData(dys, wt, g, dx1);
                dnnl.backwardFilter(xs, dys, g, dw1, db1);
                if (DnnlConvolution.oneDnnServes(g)) {
                    assertNotNull(ChannelsLast.of(y1), "forward output left NHWC: " + where);
                    if (xNhwc) assertNotNull(ChannelsLast.of(xs), "an NHWC input is read as it is: " + where);
                }
                if (DnnlConvolution.oneDnnServesBackwardData(g)) {
                    assertNotNull(ChannelsLast.of(dx1), "backward-data output left NHWC: " + where);
                }
                assertTrue(maxRelative(y1.toArray(), y2.toArray()) < 1e-4f, "forward " + where);
                assertTrue(maxRelative(dx1.toArray(), dx2.toArray()) < 1e-4f, "backward data " + where);
                assertTrue(maxRelative(dw1.toArray(), dw2.toArray()) < 1e-4f, "backward weights " + where);
                if (bias) assertTrue(maxRelative(db1.toArray(), db2.toArray()) < 1e-4f, "backward bias " + where);
            }
        }
    }

    @Test
    void inInferenceModeOnlyAnUnrecordedForwardLeavesItsOutputChannelsLast() {
        Dnnl.LoadResult r = DnnlConvolutionTest.bundled();
        Assumptions.assumeTrue(r.dnnl().isPresent(), "oneDNN not loaded: " + r.attempts());
        CpuConv2d reference = new CpuConv2d(CpuBackend.instance().gemmImpl());
        DnnlConvolution dnnl = new DnnlConvolution(r.dnnl().get(), reference, ChannelsLast.Mode.INFERENCE);
        ConvGeometry g = new ConvGeometry(2, 16, 9, 9, 24, 3, 3, 1, 1, 1, 1);
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.randn(1, 1f, 2, 16, 9, 9), w = Tensor.randn(2, 0.2f, 24, 16, 3, 3), dy = Tensor.randn(3, 1f, 2, 24, 9, 9);
            Tensor y = Tensor.zeros(2, 24, 9, 9), yRecorded = Tensor.zeros(2, 24, 9, 9), yRef = Tensor.zeros(2, 24, 9, 9);
            Tensor dx = Tensor.zeros(2, 16, 9, 9), dxRef = Tensor.zeros(2, 16, 9, 9);
            reference.forward(x, w, null, g, yRef);
            reference.backwardData(dy, w, g, dxRef);
            dnnl.forward(x, w, null, g, y);
            assertNotNull(ChannelsLast.of(y), "no tape recording: the output is left channels-last");
            try (dev.advinterp.engine.Tape t = dev.advinterp.engine.Tape.start()) {
                dnnl.forward(x, w, null, g, yRecorded);
                assertNull(ChannelsLast.of(yRecorded), "a recorded forward writes NCHW");
            }
            dnnl.backwardData(dy, w, g, dx);
            assertNull(ChannelsLast.of(dx), "the backward writes NCHW in this mode");
            for (Tensor t : new Tensor[]{y, yRecorded}) assertTrue(maxRelative(t.toArray(), yRef.toArray()) < 1e-4f);
            assertTrue(maxRelative(dx.toArray(), dxRef.toArray()) < 1e-4f);
        }
    }

    @Test
    void batchNormOnChannelsLastComputesWhatItComputesOnNchw() {
        CpuBatchNorm bn = new CpuBatchNorm();
        for (int[] d : new int[][]{{2, 19, 3, 5}, {4, 64, 8, 8}, {1, 3, 1, 1}, {3, 40, 7, 9}}) {
            int n = d[0], c = d[1], h = d[2], w = d[3];
            try (Scope s = Scope.open()) {
                Tensor x = Tensor.randn(c, 2f, n, c, h, w), dy = Tensor.randn(c + 1, 1f, n, c, h, w);
                Tensor gamma = Tensor.randn(c + 2, 1f, c), beta = Tensor.randn(c + 3, 1f, c);
                Tensor[] plain = trainAndBack(bn, x, dy, gamma, beta), cl = trainAndBack(bn, storeNhwc(x.copy()), storeNhwc(dy.copy()), gamma, beta);
                String[] names = {"y", "saved mean", "saved 1/std", "running mean", "running var", "dx", "dgamma", "dbeta", "inference y",
                        "inference dx", "inference dgamma", "inference dbeta"};
                for (int i = 0; i < plain.length; i++) {
                    float err = maxRelative(cl[i].toArray(), plain[i].toArray());
                    assertTrue(err < 2e-5f, names[i] + " " + n + "×" + c + "×" + h + "×" + w + ": " + err);
                }
            }
        }
    }

    /** Training forward and backward, then inference forward and backward; the outputs in order, channels-last ones checked so. */
    private static Tensor[] trainAndBack(CpuBatchNorm bn, Tensor x, Tensor dy, Tensor gamma, Tensor beta) {
        int c = x.dim(1);
        boolean nhwc = x.storedLayout() != null;
        Tensor y = Tensor.zeros(x.shape().dims()), mean = Tensor.zeros(c), invStd = Tensor.zeros(c);
        Tensor runMean = Tensor.zeros(c), runVar = Tensor.full(dev.advinterp.engine.Shape.of(c), 1f);
        bn.trainForward(x, gamma, beta, runMean, runVar, 0.1f, 1e-5f, y, mean, invStd);
        Tensor dx = Tensor.zeros(x.shape().dims()), dgamma = Tensor.zeros(c), dbeta = Tensor.zeros(c);
        bn.trainBackward(x, dy, gamma, mean, invStd, 1e-5f, dx, dgamma, dbeta);
        Tensor yi = Tensor.zeros(x.shape().dims()), dxi = Tensor.zeros(x.shape().dims()), dgi = Tensor.zeros(c), dbi = Tensor.zeros(c);
        bn.inferenceForward(x, gamma, beta, runMean, runVar, 1e-5f, yi);
        bn.inferenceBackward(x, dy, gamma, runMean, runVar, 1e-5f, dxi, dgi, dbi);
        if (nhwc) {
            for (Tensor t : new Tensor[]{y, dx, yi, dxi}) assertNotNull(ChannelsLast.of(t), "a channels-last input leaves its output channels-last");
        }
        return new Tensor[]{y, mean, invStd, runMean, runVar, dx, dgamma, dbeta, yi, dxi, dgi, dbi};
    }

    @Test
    void reluAndTheSumsRunInTheLayoutOfAChannelsLastInput() {
        CpuElementwise k = new CpuElementwise();
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.randn(1, 1f, 2, 24, 5, 3), b = Tensor.randn(2, 1f, 2, 24, 5, 3);
            float[] av = a.toArray(), bv = b.toArray();
            for (int mode = 0; mode < 4; mode++) {
                // 0: both NCHW; 1: x NHWC; 2: both NHWC; 3: y NHWC and x a flat row-major view
                Tensor x = mode == 1 || mode == 2 ? storeNhwc(a.copy()) : a.copy(), y = mode >= 2 ? storeNhwc(b.copy()) : b.copy();
                if (mode == 3) x = dev.advinterp.engine.Ops.reshape(x, 2 * 24 * 5 * 3);
                boolean nhwc = mode > 0;
                Tensor r = Tensor.zeros(2, 24, 5, 3), dr = Tensor.zeros(2, 24, 5, 3), sum = Tensor.zeros(2, 24, 5, 3), sc = Tensor.zeros(2, 24, 5, 3);
                k.reluForward(y, r);
                k.reluBackward(y, x, dr);
                k.axpby(2f, x, -1f, y, sum);
                k.scale(x, 3f, sc);
                assertEquals(mode >= 2, ChannelsLast.of(r) != null, "relu, mode " + mode);
                assertEquals(nhwc, ChannelsLast.of(dr) != null, "relu backward, mode " + mode);
                assertEquals(nhwc, ChannelsLast.of(sum) != null, "axpby, mode " + mode);
                float[] rv = r.toArray(), drv = dr.toArray(), sv = sum.toArray(), scv = sc.toArray(), xv = x.toArray();
                for (int i = 0; i < av.length; i++) {
                    assertEquals(av[i], xv[i], "an input rewritten into the other's layout reads the same, " + i);
                    assertEquals(Math.max(0f, bv[i]), rv[i], "relu " + i);
                    assertEquals(bv[i] > 0 ? av[i] : 0f, drv[i], "relu backward " + i);
                    assertEquals(2f * av[i] + -1f * bv[i], sv[i], "axpby " + i);
                    assertEquals(3f * av[i], scv[i], "scale " + i);
                }
            }
        }
    }

    @Test
    void batchNormBackwardBringsARowMajorGradientIntoTheLayoutOfX() {
        CpuBatchNorm bn = new CpuBatchNorm();
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.randn(1, 2f, 2, 20, 4, 4), dy = Tensor.randn(2, 1f, 2, 20, 4, 4);
            Tensor gamma = Tensor.randn(3, 1f, 20), beta = Tensor.randn(4, 1f, 20);
            Tensor[] plain = trainAndBack(bn, x, dy, gamma, beta), mixed = trainAndBack(bn, storeNhwc(x.copy()), dy.copy(), gamma, beta);
            for (int i = 0; i < plain.length; i++) assertTrue(maxRelative(mixed[i].toArray(), plain[i].toArray()) < 2e-5f, "output " + i);
        }
    }

    @Test
    void globalAveragePoolingOfChannelsLastGivesTheSameBits() {
        CpuPool pool = new CpuPool();
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.randn(9, 1f, 3, 21, 4, 5);
            Tensor y1 = Tensor.zeros(3, 21, 1, 1), y2 = Tensor.zeros(3, 21, 1, 1);
            pool.adaptiveAvgForward(x, y1);
            pool.adaptiveAvgForward(storeNhwc(x.copy()), y2);
            assertArrayEquals(y1.toArray(), y2.toArray());
        }
    }

    @Test
    void poolingOnChannelsLastComputesWhatItComputesOnNchw() {
        Dnnl.LoadResult r = DnnlConvolutionTest.bundled();
        Assumptions.assumeTrue(r.dnnl().isPresent(), "oneDNN not loaded: " + r.attempts());
        DnnlPooling pool = new DnnlPooling(r.dnnl().get(), new CpuPool(), false);
        for (PoolGeometry g : new PoolGeometry[]{new PoolGeometry(2, 64, 12, 12, 3, 3, 2, 2, 1, 1), new PoolGeometry(3, 19, 7, 9, 2, 2, 2, 2, 0, 0)}) {
            try (Scope s = Scope.open()) {
                Tensor x = Tensor.randn(1, 1f, g.n(), g.c(), g.h(), g.w()), dy = Tensor.randn(2, 1f, g.n(), g.c(), g.outH(), g.outW());
                for (boolean max : new boolean[]{true, false}) {
                    Tensor[] plain = pool(pool, max, x, dy, g), cl = pool(pool, max, storeNhwc(x.copy()), dy.copy(), g);
                    String where = (max ? "max " : "average ") + g;
                    assertNotNull(ChannelsLast.of(cl[0]), "forward output channels-last: " + where);
                    assertNotNull(ChannelsLast.of(cl[1]), "backward output channels-last: " + where);
                    assertTrue(maxRelative(cl[0].toArray(), plain[0].toArray()) < 1e-6f, "forward " + where);
                    assertTrue(maxRelative(cl[1].toArray(), plain[1].toArray()) < 1e-6f, "backward " + where);
                }
            }
        }
    }

    private static Tensor[] pool(DnnlPooling pool, boolean max, Tensor x, Tensor dy, PoolGeometry g) {
        Tensor y = Tensor.zeros(g.n(), g.c(), g.outH(), g.outW()), dx = Tensor.zeros(g.n(), g.c(), g.h(), g.w());
        if (max) {
            pool.maxForward(x, g, y);
            pool.maxBackward(x, y, dy, g, dx);
        } else {
            pool.avgForward(x, g, y);
            if (x.storedLayout() != null) storeNhwc(dy);
            pool.avgBackward(x, y, dy, g, dx);
        }
        return new Tensor[]{y, dx};
    }
}
