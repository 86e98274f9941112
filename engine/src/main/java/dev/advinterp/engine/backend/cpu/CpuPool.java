package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.ChannelsLast;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.PoolGeometry;
import dev.advinterp.engine.backend.PoolingKernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Max, average and adaptive average pooling, one (image, channel) plane per task. Max and average
 * pooling copy each plane into a heap array and work there (the copies are bounds-checked, so a
 * geometry larger than the tensors is an exception); memory traffic is a read of x and a write of
 * y, the windows' overlap served from the cache.
 */
final class CpuPool implements PoolingKernels {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    /** Java on bounds-checked segments. */
    @Override
    public boolean boundsChecked() {
        return true;
    }

    @Override
    public void maxForward(Tensor x, PoolGeometry g, Tensor y) {
        maxForward(x.segment(), g, y.segment());
    }

    @Override
    public void maxBackward(Tensor x, Tensor y, Tensor dy, PoolGeometry g, Tensor dx) {
        maxBackward(x.segment(), y.segment(), dy.segment(), g, dx.segment());
    }

    @Override
    public void avgForward(Tensor x, PoolGeometry g, Tensor y) {
        avgForward(x.segment(), g, y.segment());
    }

    @Override
    public void avgBackward(Tensor x, Tensor y, Tensor dy, PoolGeometry g, Tensor dx) {
        avgBackward(dy.segment(), g, dx.segment());
    }

    @Override
    public void adaptiveAvgForward(Tensor x, Tensor y) {
        if (y.dim(2) == 1 && y.dim(3) == 1 && ChannelsLast.of(x) != null) {
            globalAvgNhwc(x.segmentAsStored(), x.dim(0), x.dim(2) * x.dim(3), x.dim(1), y.segment());
            return;
        }
        adaptiveAvgForward(x.segment(), x.dim(0) * x.dim(1), x.dim(2), x.dim(3), y.dim(2), y.dim(3), y.segment());
    }

    /**
     * Global average pooling of a channels-last x ({@code [n][hw][c]}) into y ({@code [n][c]}, the
     * same bytes in either layout): each channel summed over its positions in the order the NCHW
     * kernel takes them, in float, so the bits are the same.
     */
    static void globalAvgNhwc(MemorySegment x, int n, int hw, int c, MemorySegment y) {
        Parallel.forRange(n, 1, (s, e) -> {
            float[] acc = new float[c];
            for (int img = s; img < e; img++) {
                java.util.Arrays.fill(acc, 0f);
                for (int p = 0; p < hw; p++) {
                    long row = ((long) img * hw + p) * c;
                    for (int ch = 0; ch < c; ch++) acc[ch] += x.getAtIndex(F, row + ch);
                }
                for (int ch = 0; ch < c; ch++) y.setAtIndex(F, (long) img * c + ch, acc[ch] / hw);
            }
        });
    }

    @Override
    public void adaptiveAvgBackward(Tensor dy, Tensor dx) {
        adaptiveAvgBackward(dy.segment(), dx.dim(0) * dx.dim(1), dx.dim(2), dx.dim(3), dy.dim(2), dy.dim(3), dx.segment());
    }

    // ------------------------------------------------------------------ on segments

    /**
     * Runs {@code body} on each (image, channel) plane of [0, planes), the plane of {@code src}
     * ({@code in} floats) copied into a heap array and the result ({@code out} floats, cleared
     * first if {@code zeroOut}, for the scatters of the backward passes) copied back into
     * {@code dst}: loops over arrays run several times faster than element accesses on segments.
     */
    private static void planes(int planes, MemorySegment src, int in, boolean zeroOut, MemorySegment dst, int out, PlaneBody body) {
        Parallel.forRange(planes, 1, (s, e) -> {
            float[] a = new float[in], b = new float[out];
            for (int pl = s; pl < e; pl++) {
                MemorySegment.copy(src, F, (long) pl * in * Float.BYTES, a, 0, in);
                if (zeroOut) java.util.Arrays.fill(b, 0f);
                body.run(pl, a, b);
                MemorySegment.copy(b, 0, dst, F, (long) pl * out * Float.BYTES, out);
            }
        });
    }

    @FunctionalInterface
    private interface PlaneBody {
        void run(int plane, float[] in, float[] out);
    }

    /**
     * Each window's maximum by {@link Math#max} (branch-free: a comparison per element that
     * mispredicts half the time costs several times more), NaN if the window holds one. Where the
     * maximum is a zero, the window's first zero is taken, sign and all, as PyTorch keeps the first
     * of equal maxima (Math.max would make −0 and +0 into +0). The 3×3 and 2×2 windows inside the plane (ResNet's, VGG's and
     * AlexNet's) take the maximum of each row, then of the rows, so that no element waits on the
     * previous one.
     */
    static void maxForward(MemorySegment x, PoolGeometry g, MemorySegment y) {
        int oh = g.outH(), ow = g.outW(), h = g.h(), w = g.w(), kh = g.kh(), kw = g.kw();
        boolean three = kh == 3 && kw == 3, two = kh == 2 && kw == 2;
        planes(g.n() * g.c(), x, h * w, false, y, oh * ow, (pl, in, out) -> {
            for (int oy = 0; oy < oh; oy++) {
                int y0 = Math.max(0, oy * g.strideH() - g.padH()), y1 = Math.min(h, oy * g.strideH() - g.padH() + kh);
                boolean rowsInside = y1 - y0 == kh;
                for (int ox = 0; ox < ow; ox++) {
                    int x0 = Math.max(0, ox * g.strideW() - g.padW()), x1 = Math.min(w, ox * g.strideW() - g.padW() + kw);
                    int b = y0 * w + x0;
                    float m;
                    if (three && rowsInside && x1 - x0 == 3) {
                        int c = b + w, d = c + w;
                        m = Math.max(Math.max(Math.max(Math.max(in[b], in[b + 1]), in[b + 2]), Math.max(Math.max(in[c], in[c + 1]), in[c + 2])),
                                Math.max(Math.max(in[d], in[d + 1]), in[d + 2]));
                    } else if (two && rowsInside && x1 - x0 == 2) {
                        m = Math.max(Math.max(in[b], in[b + 1]), Math.max(in[b + w], in[b + w + 1]));
                    } else {
                        m = Float.NEGATIVE_INFINITY;
                        for (int iy = y0; iy < y1; iy++) {
                            for (int ix = iy * w + x0, end = iy * w + x1; ix < end; ix++) m = Math.max(m, in[ix]);
                        }
                    }
                    out[oy * ow + ox] = m;
                }
            }
            // a separate pass, so that the loop above stays branch-free
            for (int o = 0; o < oh * ow; o++) {
                if (out[o] == 0f) out[o] = firstZero(in, g, w, o / ow, o % ow);
            }
        });
    }

    /** The first element equal to zero (−0 or +0) of the window of output (oy, ox). */
    private static float firstZero(float[] in, PoolGeometry g, int w, int oy, int ox) {
        int y0 = Math.max(0, oy * g.strideH() - g.padH()), y1 = Math.min(g.h(), oy * g.strideH() - g.padH() + g.kh());
        int x0 = Math.max(0, ox * g.strideW() - g.padW()), x1 = Math.min(w, ox * g.strideW() - g.padW() + g.kw());
        for (int iy = y0; iy < y1; iy++) {
            for (int ix = iy * w + x0, end = iy * w + x1; ix < end; ix++) {
                if (in[ix] == 0f) return in[ix];
            }
        }
        throw new IllegalStateException("a window whose maximum is zero holds no zero");
    }

    /**
     * dx gets each window's dy at the first position holding the window's maximum y (the first of
     * equal maxima, −0 and +0 equal; the last NaN where the window holds one: PyTorch's choice).
     */
    static void maxBackward(MemorySegment x, MemorySegment y, MemorySegment dy, PoolGeometry g, MemorySegment dx) {
        int oh = g.outH(), ow = g.outW(), h = g.h(), w = g.w();
        Parallel.forRange(g.n() * g.c(), 1, (s, e) -> {
            float[] in = new float[h * w], grad = new float[h * w], ys = new float[oh * ow], dys = new float[oh * ow];
            for (int pl = s; pl < e; pl++) {
                long xb = (long) pl * h * w * Float.BYTES, yb = (long) pl * oh * ow * Float.BYTES;
                MemorySegment.copy(x, F, xb, in, 0, h * w);
                MemorySegment.copy(y, F, yb, ys, 0, oh * ow);
                MemorySegment.copy(dy, F, yb, dys, 0, oh * ow);
                java.util.Arrays.fill(grad, 0f);
                for (int oy = 0; oy < oh; oy++) {
                    int y0 = Math.max(0, oy * g.strideH() - g.padH()), y1 = Math.min(h, oy * g.strideH() - g.padH() + g.kh());
                    for (int ox = 0; ox < ow; ox++) {
                        int x0 = Math.max(0, ox * g.strideW() - g.padW()), x1 = Math.min(w, ox * g.strideW() - g.padW() + g.kw());
                        int at = oy * ow + ox;
                        grad[argmax(in, ys[at], w, y0, y1, x0, x1)] += dys[at];
                    }
                }
                MemorySegment.copy(grad, 0, dx, F, xb, h * w);
            }
        });
    }

    /** The index in the plane of the window's element the forward chose as its maximum m. */
    private static int argmax(float[] in, float m, int w, int y0, int y1, int x0, int x1) {
        if (Float.isNaN(m)) {
            for (int iy = y1 - 1; iy >= y0; iy--) {
                for (int ix = x1 - 1; ix >= x0; ix--) {
                    if (Float.isNaN(in[iy * w + ix])) return iy * w + ix;
                }
            }
        } else {
            for (int iy = y0; iy < y1; iy++) {
                for (int ix = iy * w + x0, end = iy * w + x1; ix < end; ix++) {
                    if (in[ix] == m) return ix;
                }
            }
        }
        throw new IllegalArgumentException("maxPool2dBackward: the output " + m + " is not in its window of the input"
                + " (the output is not this input's max pooling)");
    }

    static void avgForward(MemorySegment x, PoolGeometry g, MemorySegment y) {
        int oh = g.outH(), ow = g.outW(), h = g.h(), w = g.w();
        float inv = 1f / (g.kh() * g.kw());
        planes(g.n() * g.c(), x, h * w, false, y, oh * ow, (pl, in, out) -> {
            for (int oy = 0; oy < oh; oy++) {
                int y0 = Math.max(0, oy * g.strideH() - g.padH()), y1 = Math.min(h, oy * g.strideH() - g.padH() + g.kh());
                for (int ox = 0; ox < ow; ox++) {
                    int x0 = Math.max(0, ox * g.strideW() - g.padW()), x1 = Math.min(w, ox * g.strideW() - g.padW() + g.kw());
                    float acc = 0f;
                    for (int iy = y0; iy < y1; iy++) {
                        for (int ix = iy * w + x0, end = iy * w + x1; ix < end; ix++) acc += in[ix];
                    }
                    out[oy * ow + ox] = acc * inv;
                }
            }
        });
    }

    static void avgBackward(MemorySegment dy, PoolGeometry g, MemorySegment dx) {
        int oh = g.outH(), ow = g.outW(), h = g.h(), w = g.w();
        float inv = 1f / (g.kh() * g.kw());
        planes(g.n() * g.c(), dy, oh * ow, true, dx, h * w, (pl, in, out) -> {
            for (int oy = 0; oy < oh; oy++) {
                int y0 = Math.max(0, oy * g.strideH() - g.padH()), y1 = Math.min(h, oy * g.strideH() - g.padH() + g.kh());
                for (int ox = 0; ox < ow; ox++) {
                    int x0 = Math.max(0, ox * g.strideW() - g.padW()), x1 = Math.min(w, ox * g.strideW() - g.padW() + g.kw());
                    float d = in[oy * ow + ox] * inv;
                    for (int iy = y0; iy < y1; iy++) {
                        for (int ix = iy * w + x0, end = iy * w + x1; ix < end; ix++) out[ix] += d;
                    }
                }
            }
        });
    }

    static int binStart(int i, int in, int out) {
        return (int) Math.floorDiv((long) i * in, out);
    }

    static int binEnd(int i, int in, int out) {
        return (int) -Math.floorDiv(-(long) (i + 1) * in, out);
    }

    static void adaptiveAvgForward(MemorySegment x, int planes, int h, int w, int oh, int ow, MemorySegment y) {
        Parallel.forRange(planes, 1, (s, e) -> {
            for (int pl = s; pl < e; pl++) {
                long xb = (long) pl * h * w, yb = (long) pl * oh * ow;
                for (int oy = 0; oy < oh; oy++) {
                    int y0 = binStart(oy, h, oh), y1 = binEnd(oy, h, oh);
                    for (int ox = 0; ox < ow; ox++) {
                        int x0 = binStart(ox, w, ow), x1 = binEnd(ox, w, ow);
                        float acc = 0f;
                        for (int iy = y0; iy < y1; iy++) {
                            for (int ix = x0; ix < x1; ix++) acc += x.getAtIndex(F, xb + (long) iy * w + ix);
                        }
                        y.setAtIndex(F, yb + (long) oy * ow + ox, acc / ((y1 - y0) * (x1 - x0)));
                    }
                }
            }
        });
    }

    static void adaptiveAvgBackward(MemorySegment dy, int planes, int h, int w, int oh, int ow, MemorySegment dx) {
        Parallel.forRange(planes, 1, (s, e) -> {
            for (int pl = s; pl < e; pl++) {
                long xb = (long) pl * h * w, yb = (long) pl * oh * ow;
                dx.asSlice(xb * 4, (long) h * w * 4).fill((byte) 0);
                for (int oy = 0; oy < oh; oy++) {
                    int y0 = binStart(oy, h, oh), y1 = binEnd(oy, h, oh);
                    for (int ox = 0; ox < ow; ox++) {
                        int x0 = binStart(ox, w, ow), x1 = binEnd(ox, w, ow);
                        float d = dy.getAtIndex(F, yb + (long) oy * ow + ox) / ((y1 - y0) * (x1 - x0));
                        for (int iy = y0; iy < y1; iy++) {
                            for (int ix = x0; ix < x1; ix++) {
                                long idx = xb + (long) iy * w + ix;
                                dx.setAtIndex(F, idx, dx.getAtIndex(F, idx) + d);
                            }
                        }
                    }
                }
            }
        });
    }
}
