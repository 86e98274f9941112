package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.ConvGeometry;
import dev.advinterp.engine.backend.ConvolutionKernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Convolution on the CPU: Winograd where it applies, im2col + GEMM everywhere else.
 *
 * <p>Which algorithm: a 3×3 stride-1 convolution with at least {@link CpuWinograd#MIN_CHANNELS}
 * input and output channels goes through {@link CpuWinograd} (forward F(2×2, 3×3), backward data
 * the same on the flipped filters when the padding is at most 2, backward filter F(3×3, 2×2)),
 * doing 0.44 of im2col's multiply-adds; every other convolution, and all of them with
 * {@code -Dadvinterp.conv.winograd=false}, takes im2col + GEMM below.
 *
 * <p>Forward, per group of {@code g} images: {@code col [K = cIn·kh·kw, g·P]} (P = outH·outW) holds
 * the receptive fields, {@code Y [cOut, g·P] = W [cOut, K] · col}; FLOPs 2·cOut·K·g·P, bytes moved
 * about 4·(K·g·P) twice for col plus the GEMM's own. Images are grouped so that the GEMM's n
 * dimension is at least {@link #TARGET_COLUMNS} (small feature maps would otherwise give thin,
 * slow GEMMs), within a workspace budget. A 1×1 stride-1 unpadded convolution of one image needs
 * no im2col: the input plane is the column matrix.
 *
 * <p>Backward data: {@code dcol = Wᵀ · dY}, then col2im adds the columns back into dx (each input
 * plane written by one thread: deterministic). Backward filter: {@code dW = Σ_groups dY · colᵀ}
 * in group order (deterministic).
 *
 * <p>Threads. With at least one image per thread and a GEMM that can run on its caller alone
 * ({@link Gemm#runSingleThreaded}), the batch is split into one contiguous range of images per
 * thread of {@link Parallel}, and each thread runs im2col, GEMM and col2im for its own images from
 * start to end. Splitting the GEMMs instead (the library's threads, with Java's threads for
 * im2col in between) puts a barrier between every phase, leaves the library's threads spinning
 * while Java's copy, and falls apart when the cores are shared with another process. Backward
 * filter then sums one partial dW per thread, in thread order; the ranges depend only on the
 * batch size and the thread count, so the bits do not change from run to run. Smaller batches
 * take the split-GEMM route.
 */
final class CpuConv2d implements ConvolutionKernels {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    /** Lane i holds 2i: with {@code selectFrom(a, b)} it gathers the even elements of a then b. */
    private static final FloatVector EVEN_LANES = FloatVector.fromArray(S, evenIndexes(), 0);
    static final int TARGET_COLUMNS = 2048;
    private static final long WORKSPACE_FLOATS = 32L << 20; // 128 MB per buffer at most
    private static final int COL = 0, OUT = 1, PARTIAL = 2;

    /** The GEMM the convolutions run on: native code, so Backend checks the geometry against the tensors first. */
    private final Gemm gemm;

    CpuConv2d(Gemm gemm) {
        this.gemm = gemm;
    }

    @Override
    public void forward(Tensor x, Tensor w, Tensor bias, ConvGeometry g, Tensor y) {
        forward(gemm, x.segment(), w.segment(), bias == null ? null : bias.segment(), g, y.segment());
    }

    @Override
    public void backwardData(Tensor dy, Tensor w, ConvGeometry g, Tensor dx) {
        backwardData(gemm, dy.segment(), w.segment(), g, dx.segment());
    }

    @Override
    public void backwardFilter(Tensor x, Tensor dy, ConvGeometry g, Tensor dw, Tensor dbias) {
        backwardFilter(gemm, x.segment(), dy.segment(), g, dw.segment(), dbias == null ? null : dbias.segment());
    }

    // ------------------------------------------------------------------ on segments

    static int groupSize(ConvGeometry g) {
        return groupSize(g, g.n());
    }

    /** Images per im2col GEMM when {@code images} images are to be done. */
    static int groupSize(ConvGeometry g, int images) {
        int p = g.outH() * g.outW();
        int want = Math.max(1, (TARGET_COLUMNS + p - 1) / p);
        long perImage = (long) g.colRows() * p + (long) g.cOut() * p;
        int fit = (int) Math.max(1, WORKSPACE_FLOATS / Math.max(1, perImage));
        return Math.min(images, Math.min(want, fit));
    }

    private static boolean pointwise(ConvGeometry g) {
        return g.kh() == 1 && g.kw() == 1 && g.strideH() == 1 && g.strideW() == 1 && g.padH() == 0 && g.padW() == 0;
    }

    /** The work of one thread: images [from, to), its index, and whether it may itself use the pool. */
    @FunctionalInterface
    interface ImageRange {
        void run(int from, int to, int thread, boolean parallel);
    }

    /** Whether a batch of n images is split over the threads (see the class comment). */
    static boolean splitsImages(Gemm gemm, int n) {
        int threads = Parallel.THREADS;
        // an uneven split of a small batch would leave a core idle for a whole image
        return threads > 1 && n >= threads && (n % threads == 0 || n >= 4 * threads) && gemm.canRunSingleThreaded();
    }

    /**
     * Runs {@code body} once per thread on that thread's images when the batch is split; else once
     * over the whole batch on the calling thread, with the pool and the GEMM's own threads.
     */
    static void forImages(Gemm gemm, int n, ImageRange body) {
        if (!splitsImages(gemm, n)) {
            body.run(0, n, 0, true);
            return;
        }
        int threads = Parallel.THREADS;
        gemm.runSingleThreaded(() -> Parallel.forRange(threads, 1, (s, e) -> {
            for (int t = s; t < e; t++) {
                body.run(imageStart(n, t, threads), imageStart(n, t + 1, threads), t, false);
            }
        }));
    }

    private static int imageStart(int n, int thread, int threads) {
        return (int) ((long) n * thread / threads);
    }

    static void loop(boolean parallel, int n, int grain, Parallel.Range body) {
        if (parallel) {
            Parallel.forRange(n, grain, body);
        } else {
            body.run(0, n);
        }
    }

    static void forward(Gemm gemm, MemorySegment x, MemorySegment w, MemorySegment bias, ConvGeometry g, MemorySegment y) {
        if (CpuWinograd.appliesForward(g)) {
            CpuWinograd.forward(gemm, x, w, bias, g, y);
        } else {
            im2colForward(gemm, x, w, bias, g, y);
        }
    }

    static void backwardData(Gemm gemm, MemorySegment dy, MemorySegment w, ConvGeometry g, MemorySegment dx) {
        if (CpuWinograd.appliesBackwardData(g)) {
            CpuWinograd.backwardData(gemm, dy, w, g, dx);
        } else {
            im2colBackwardData(gemm, dy, w, g, dx);
        }
    }

    static void backwardFilter(Gemm gemm, MemorySegment x, MemorySegment dy, ConvGeometry g, MemorySegment dw, MemorySegment dbias) {
        if (CpuWinograd.appliesBackwardFilter(g)) {
            CpuWinograd.backwardFilter(gemm, x, dy, g, dw, dbias);
        } else {
            im2colBackwardFilter(gemm, x, dy, g, dw, dbias);
        }
    }

    static void im2colForward(Gemm gemm, MemorySegment x, MemorySegment w, MemorySegment bias, ConvGeometry g, MemorySegment y) {
        int p = g.outH() * g.outW(), k = g.colRows(), cOut = g.cOut();
        long xImage = (long) g.cIn() * g.h() * g.w(), yImage = (long) cOut * p;
        forImages(gemm, g.n(), (from, to, thread, parallel) -> {
            int group = groupSize(g, to - from);
            for (int n0 = from; n0 < to; n0 += group) {
                int gs = Math.min(group, to - n0);
                if (gs == 1) {
                    MemorySegment col = pointwise(g) ? x : Workspace.get(COL, (long) k * p);
                    long colOff = pointwise(g) ? n0 * xImage : 0;
                    if (!pointwise(g)) im2col(x, n0, 1, g, col, parallel);
                    gemm.sgemm(false, false, cOut, p, k, 1f, w, 0, k, col, colOff, p, 0f, y, n0 * yImage, p);
                } else {
                    int cols = gs * p;
                    MemorySegment col = Workspace.get(COL, (long) k * cols);
                    MemorySegment out = Workspace.get(OUT, (long) cOut * cols);
                    im2col(x, n0, gs, g, col, parallel);
                    gemm.sgemm(false, false, cOut, cols, k, 1f, w, 0, k, col, 0, cols, 0f, out, 0, cols);
                    // [cOut, gs·P] → y[n0 + i, cOut, P]
                    int fn0 = n0;
                    loop(parallel, cOut, 8, (s, e) -> {
                        for (int co = s; co < e; co++) {
                            for (int i = 0; i < gs; i++) {
                                MemorySegment.copy(out, ((long) co * cols + (long) i * p) * 4, y,
                                        ((fn0 + i) * yImage + (long) co * p) * 4, (long) p * 4);
                            }
                        }
                    });
                }
            }
        });
        if (bias != null) CpuElementwise.addBias(y, bias, g.n(), cOut, p);
    }

    static void im2colBackwardData(Gemm gemm, MemorySegment dy, MemorySegment w, ConvGeometry g, MemorySegment dx) {
        int p = g.outH() * g.outW(), k = g.colRows(), cOut = g.cOut();
        long xImage = (long) g.cIn() * g.h() * g.w(), yImage = (long) cOut * p;
        forImages(gemm, g.n(), (from, to, thread, parallel) -> {
            int group = groupSize(g, to - from);
            for (int n0 = from; n0 < to; n0 += group) {
                int gs = Math.min(group, to - n0);
                int cols = gs * p;
                if (gs == 1 && pointwise(g)) {
                    gemm.sgemm(true, false, k, p, cOut, 1f, w, 0, k, dy, n0 * yImage, p, 0f, dx, n0 * xImage, p);
                    continue;
                }
                MemorySegment dyg;
                long dygOff;
                if (gs == 1) {
                    dyg = dy;
                    dygOff = n0 * yImage;
                } else {
                    dyg = Workspace.get(OUT, (long) cOut * cols);
                    dygOff = 0;
                    gatherGroup(dy, n0, gs, cOut, p, dyg, parallel);
                }
                MemorySegment dcol = Workspace.get(COL, (long) k * cols);
                gemm.sgemm(true, false, k, cols, cOut, 1f, w, 0, k, dyg, dygOff, cols, 0f, dcol, 0, cols);
                col2im(dcol, n0, gs, g, dx, parallel);
            }
        });
    }

    static void im2colBackwardFilter(Gemm gemm, MemorySegment x, MemorySegment dy, ConvGeometry g, MemorySegment dw, MemorySegment dbias) {
        int p = g.outH() * g.outW(), k = g.colRows(), cOut = g.cOut();
        long xImage = (long) g.cIn() * g.h() * g.w(), yImage = (long) cOut * p, wSize = (long) cOut * k;
        // Thread t > 0 sums its images into slice t − 1 of the caller's buffer; thread 0 into dw.
        boolean split = splitsImages(gemm, g.n());
        MemorySegment partials = split ? Workspace.get(PARTIAL, (Parallel.THREADS - 1) * wSize) : null;
        forImages(gemm, g.n(), (from, to, thread, parallel) -> {
            MemorySegment acc = thread == 0 ? dw : partials;
            long accOff = thread == 0 ? 0 : (thread - 1) * wSize;
            int group = groupSize(g, to - from);
            for (int n0 = from; n0 < to; n0 += group) {
                int gs = Math.min(group, to - n0);
                int cols = gs * p;
                float beta = n0 == from ? 0f : 1f;
                if (gs == 1) {
                    MemorySegment col = pointwise(g) ? x : Workspace.get(COL, (long) k * p);
                    long colOff = pointwise(g) ? n0 * xImage : 0;
                    if (!pointwise(g)) im2col(x, n0, 1, g, col, parallel);
                    gemm.sgemm(false, true, cOut, k, p, 1f, dy, n0 * yImage, p, col, colOff, p, beta, acc, accOff, k);
                } else {
                    MemorySegment col = Workspace.get(COL, (long) k * cols);
                    MemorySegment dyg = Workspace.get(OUT, (long) cOut * cols);
                    im2col(x, n0, gs, g, col, parallel);
                    gatherGroup(dy, n0, gs, cOut, p, dyg, parallel);
                    gemm.sgemm(false, true, cOut, k, cols, 1f, dyg, 0, cols, col, 0, cols, beta, acc, accOff, k);
                }
            }
        });
        if (split) addPartials(dw, partials, Parallel.THREADS - 1, wSize);
        if (dbias != null) CpuElementwise.sumBias(dy, g.n(), cOut, p, dbias);
    }

    /** dw[i] += partials[t·size + i] for t = 0, 1, … in that order (the same bits whatever the timing). */
    private static void addPartials(MemorySegment dw, MemorySegment partials, int count, long size) {
        int blocks = (int) ((size + CpuElementwise.GRAIN - 1) / CpuElementwise.GRAIN);
        Parallel.forRange(blocks, 1, (s, e) -> {
            long start = (long) s * CpuElementwise.GRAIN, end = Math.min(size, (long) e * CpuElementwise.GRAIN);
            for (int t = 0; t < count; t++) {
                long off = t * size;
                long i = start;
                for (; i <= end - S.length(); i += S.length()) {
                    FloatVector.fromMemorySegment(S, dw, i * 4, NATIVE)
                            .add(FloatVector.fromMemorySegment(S, partials, (off + i) * 4, NATIVE))
                            .intoMemorySegment(dw, i * 4, NATIVE);
                }
                for (; i < end; i++) dw.setAtIndex(F, i, dw.getAtIndex(F, i) + partials.getAtIndex(F, off + i));
            }
        });
    }

    /** dy[n0 + i, c, P] → dst[c, i·P + q]. */
    private static void gatherGroup(MemorySegment dy, int n0, int gs, int channels, int p, MemorySegment dst, boolean parallel) {
        long image = (long) channels * p;
        int cols = gs * p;
        loop(parallel, channels, 8, (s, e) -> {
            for (int c = s; c < e; c++) {
                for (int i = 0; i < gs; i++) {
                    MemorySegment.copy(dy, ((n0 + i) * image + (long) c * p) * 4, dst, ((long) c * cols + (long) i * p) * 4, (long) p * 4);
                }
            }
        });
    }

    /**
     * col[(c·kh + i)·kw + j, img·P + oy·outW + ox] = x[n0 + img, c, oy·s − pad + i, ox·s − pad + j] (0 outside).
     * Each row of the output is a run of outW values read from one input row; only the run's ends
     * can fall in the padding, so the in-bounds middle is computed once per (row, j) and copied
     * without per-element tests.
     */
    static void im2col(MemorySegment x, int n0, int gs, ConvGeometry g, MemorySegment col, boolean parallel) {
        int kh = g.kh(), kw = g.kw(), h = g.h(), w = g.w(), oh = g.outH(), ow = g.outW();
        int sh = g.strideH(), sw = g.strideW(), ph = g.padH(), pw = g.padW();
        int p = oh * ow, cols = gs * p, rows = g.colRows();
        long xImage = (long) g.cIn() * h * w, xBytes = x.byteSize();
        loop(parallel, rows, 4, (s, e) -> {
            for (int r = s; r < e; r++) {
                int c = r / (kh * kw), i = (r / kw) % kh, j = r % kw;
                long rowBase = (long) r * cols;
                // ox in [lo, hi) reads inside the row: 0 ≤ ox·sw − pw + j < w
                int lo = Math.clamp(ceilDiv(pw - j, sw), 0, ow), hi = Math.max(lo, Math.min(ow, floorDiv(w - 1 + pw - j, sw) + 1));
                for (int img = 0; img < gs; img++) {
                    long plane = (n0 + img) * xImage + (long) c * h * w;
                    long dst = rowBase + (long) img * p;
                    for (int oy = 0; oy < oh; oy++) {
                        int iy = oy * sh - ph + i;
                        long d = dst + (long) oy * ow;
                        if (iy < 0 || iy >= h) {
                            for (int ox = 0; ox < ow; ox++) col.setAtIndex(F, d + ox, 0f);
                            continue;
                        }
                        long src = plane + (long) iy * w - pw + j;
                        for (int ox = 0; ox < lo; ox++) col.setAtIndex(F, d + ox, 0f);
                        if (sw == 1) {
                            if (hi > lo) MemorySegment.copy(x, (src + lo) * 4, col, (d + lo) * 4, (long) (hi - lo) * 4);
                        } else {
                            int ox = lo;
                            if (sw == 2) {
                                // two vectors of input hold one vector of output: keep the even lanes
                                for (; ox <= hi - S.length() && (src + 2L * (ox + S.length())) * 4 <= xBytes; ox += S.length()) {
                                    FloatVector first = FloatVector.fromMemorySegment(S, x, (src + 2L * ox) * 4, NATIVE);
                                    FloatVector second = FloatVector.fromMemorySegment(S, x, (src + 2L * ox + S.length()) * 4, NATIVE);
                                    EVEN_LANES.selectFrom(first, second).intoMemorySegment(col, (d + ox) * 4, NATIVE);
                                }
                            }
                            for (; ox < hi; ox++) col.setAtIndex(F, d + ox, x.getAtIndex(F, src + (long) ox * sw));
                        }
                        for (int ox = hi; ox < ow; ox++) col.setAtIndex(F, d + ox, 0f);
                    }
                }
            }
        });
    }

    private static float[] evenIndexes() {
        float[] idx = new float[S.length()];
        for (int i = 0; i < idx.length; i++) idx[i] = 2 * i;
        return idx;
    }

    private static int ceilDiv(int a, int b) {
        return -Math.floorDiv(-a, b);
    }

    private static int floorDiv(int a, int b) {
        return Math.floorDiv(a, b);
    }

    /**
     * dx[n0 + img, c] = Σ over the columns that read each pixel (overwrites those images of dx).
     * Each pixel receives its kh·kw contributions in (i, j) order whatever the thread count
     * (a plane is one thread's), so the sums are the same bits on every run. The in-bounds run of
     * each column row is found once per (i, j), as in {@link #im2col}; with stride 1 it is a
     * contiguous vector add.
     */
    static void col2im(MemorySegment dcol, int n0, int gs, ConvGeometry g, MemorySegment dx, boolean parallel) {
        int kh = g.kh(), kw = g.kw(), h = g.h(), w = g.w(), oh = g.outH(), ow = g.outW();
        int sh = g.strideH(), sw = g.strideW(), ph = g.padH(), pw = g.padW();
        int p = oh * ow, cols = gs * p;
        long xImage = (long) g.cIn() * h * w;
        int planes = gs * g.cIn();
        loop(parallel, planes, 1, (s, e) -> {
            for (int pl = s; pl < e; pl++) {
                // channel-major: consecutive planes read neighbouring stretches of the same dcol rows,
                // which matters when a plane's stretch is a single cache line (small feature maps)
                int c = pl / gs, img = pl % gs;
                long plane = (n0 + img) * xImage + (long) c * h * w;
                dx.asSlice(plane * 4, (long) h * w * 4).fill((byte) 0);
                for (int i = 0; i < kh; i++) {
                    int oyLo = Math.clamp(ceilDiv(ph - i, sh), 0, oh), oyHi = Math.min(oh, floorDiv(h - 1 + ph - i, sh) + 1);
                    for (int j = 0; j < kw; j++) {
                        int lo = Math.clamp(ceilDiv(pw - j, sw), 0, ow), hi = Math.min(ow, floorDiv(w - 1 + pw - j, sw) + 1);
                        if (hi <= lo) continue;
                        long rowBase = (long) ((c * kh + i) * kw + j) * cols + (long) img * p;
                        for (int oy = oyLo; oy < oyHi; oy++) {
                            long src = rowBase + (long) oy * ow;
                            long dst = plane + (long) (oy * sh - ph + i) * w - pw + j;
                            if (sw == 1) {
                                int ox = lo;
                                for (; ox <= hi - S.length(); ox += S.length()) {
                                    FloatVector.fromMemorySegment(S, dx, (dst + ox) * 4, NATIVE)
                                            .add(FloatVector.fromMemorySegment(S, dcol, (src + ox) * 4, NATIVE))
                                            .intoMemorySegment(dx, (dst + ox) * 4, NATIVE);
                                }
                                for (; ox < hi; ox++) dx.setAtIndex(F, dst + ox, dx.getAtIndex(F, dst + ox) + dcol.getAtIndex(F, src + ox));
                            } else {
                                for (int ox = lo; ox < hi; ox++) {
                                    long at = dst + (long) ox * sw;
                                    dx.setAtIndex(F, at, dx.getAtIndex(F, at) + dcol.getAtIndex(F, src + ox));
                                }
                            }
                        }
                    }
                }
            }
        });
    }
}
