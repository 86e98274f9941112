package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.PoolGeometry;
import dev.advinterp.engine.backend.PoolingKernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Max, average and adaptive average pooling, one (image, channel) plane per task. Each reads its
 * input plane once per overlapping window: bytes ≈ 4·(kh·kw/stride²)·|x| + 4·|y|.
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
        adaptiveAvgForward(x.segment(), x.dim(0) * x.dim(1), x.dim(2), x.dim(3), y.dim(2), y.dim(3), y.segment());
    }

    @Override
    public void adaptiveAvgBackward(Tensor dy, Tensor dx) {
        adaptiveAvgBackward(dy.segment(), dx.dim(0) * dx.dim(1), dx.dim(2), dx.dim(3), dy.dim(2), dy.dim(3), dx.segment());
    }

    // ------------------------------------------------------------------ on segments

    static void maxForward(MemorySegment x, PoolGeometry g, MemorySegment y) {
        int oh = g.outH(), ow = g.outW(), h = g.h(), w = g.w();
        Parallel.forRange(g.n() * g.c(), 1, (s, e) -> {
            for (int pl = s; pl < e; pl++) {
                long xb = (long) pl * h * w, yb = (long) pl * oh * ow;
                for (int oy = 0; oy < oh; oy++) {
                    int y0 = Math.max(0, oy * g.strideH() - g.padH()), y1 = Math.min(h, oy * g.strideH() - g.padH() + g.kh());
                    for (int ox = 0; ox < ow; ox++) {
                        int x0 = Math.max(0, ox * g.strideW() - g.padW()), x1 = Math.min(w, ox * g.strideW() - g.padW() + g.kw());
                        float m = Float.NEGATIVE_INFINITY;
                        for (int iy = y0; iy < y1; iy++) {
                            for (int ix = x0; ix < x1; ix++) {
                                float v = x.getAtIndex(F, xb + (long) iy * w + ix);
                                if (v > m || Float.isNaN(v)) m = v;
                            }
                        }
                        y.setAtIndex(F, yb + (long) oy * ow + ox, m);
                    }
                }
            }
        });
    }

    /**
     * dx gets each window's dy at the first position holding the window's maximum y (the forward's
     * selection: the first of equal maxima, the last NaN where the window holds one).
     */
    static void maxBackward(MemorySegment x, MemorySegment y, MemorySegment dy, PoolGeometry g, MemorySegment dx) {
        int oh = g.outH(), ow = g.outW(), h = g.h(), w = g.w();
        Parallel.forRange(g.n() * g.c(), 1, (s, e) -> {
            for (int pl = s; pl < e; pl++) {
                long xb = (long) pl * h * w, yb = (long) pl * oh * ow;
                dx.asSlice(xb * 4, (long) h * w * 4).fill((byte) 0);
                for (int oy = 0; oy < oh; oy++) {
                    int y0 = Math.max(0, oy * g.strideH() - g.padH()), y1 = Math.min(h, oy * g.strideH() - g.padH() + g.kh());
                    for (int ox = 0; ox < ow; ox++) {
                        int x0 = Math.max(0, ox * g.strideW() - g.padW()), x1 = Math.min(w, ox * g.strideW() - g.padW() + g.kw());
                        long at = yb + (long) oy * ow + ox;
                        long arg = argmax(x, y.getAtIndex(F, at), xb, w, y0, y1, x0, x1);
                        dx.setAtIndex(F, arg, dx.getAtIndex(F, arg) + dy.getAtIndex(F, at));
                    }
                }
            }
        });
    }

    /** The index of the window's element the forward chose as its maximum m. */
    private static long argmax(MemorySegment x, float m, long xb, int w, int y0, int y1, int x0, int x1) {
        if (Float.isNaN(m)) {
            for (int iy = y1 - 1; iy >= y0; iy--) {
                for (int ix = x1 - 1; ix >= x0; ix--) {
                    long idx = xb + (long) iy * w + ix;
                    if (Float.isNaN(x.getAtIndex(F, idx))) return idx;
                }
            }
        } else {
            for (int iy = y0; iy < y1; iy++) {
                for (int ix = x0; ix < x1; ix++) {
                    long idx = xb + (long) iy * w + ix;
                    if (x.getAtIndex(F, idx) == m) return idx;
                }
            }
        }
        throw new IllegalArgumentException("maxPool2dBackward: the output " + m + " is not in its window of the input"
                + " (the output is not this input's max pooling)");
    }

    static void avgForward(MemorySegment x, PoolGeometry g, MemorySegment y) {
        int oh = g.outH(), ow = g.outW(), h = g.h(), w = g.w();
        float inv = 1f / (g.kh() * g.kw());
        Parallel.forRange(g.n() * g.c(), 1, (s, e) -> {
            for (int pl = s; pl < e; pl++) {
                long xb = (long) pl * h * w, yb = (long) pl * oh * ow;
                for (int oy = 0; oy < oh; oy++) {
                    int y0 = Math.max(0, oy * g.strideH() - g.padH()), y1 = Math.min(h, oy * g.strideH() - g.padH() + g.kh());
                    for (int ox = 0; ox < ow; ox++) {
                        int x0 = Math.max(0, ox * g.strideW() - g.padW()), x1 = Math.min(w, ox * g.strideW() - g.padW() + g.kw());
                        float acc = 0f;
                        for (int iy = y0; iy < y1; iy++) {
                            for (int ix = x0; ix < x1; ix++) acc += x.getAtIndex(F, xb + (long) iy * w + ix);
                        }
                        y.setAtIndex(F, yb + (long) oy * ow + ox, acc * inv);
                    }
                }
            }
        });
    }

    static void avgBackward(MemorySegment dy, PoolGeometry g, MemorySegment dx) {
        int oh = g.outH(), ow = g.outW(), h = g.h(), w = g.w();
        float inv = 1f / (g.kh() * g.kw());
        Parallel.forRange(g.n() * g.c(), 1, (s, e) -> {
            for (int pl = s; pl < e; pl++) {
                long xb = (long) pl * h * w, yb = (long) pl * oh * ow;
                dx.asSlice(xb * 4, (long) h * w * 4).fill((byte) 0);
                for (int oy = 0; oy < oh; oy++) {
                    int y0 = Math.max(0, oy * g.strideH() - g.padH()), y1 = Math.min(h, oy * g.strideH() - g.padH() + g.kh());
                    for (int ox = 0; ox < ow; ox++) {
                        int x0 = Math.max(0, ox * g.strideW() - g.padW()), x1 = Math.min(w, ox * g.strideW() - g.padW() + g.kw());
                        float d = dy.getAtIndex(F, yb + (long) oy * ow + ox) * inv;
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
