package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.EngineConfig;
import dev.advinterp.engine.backend.ConvGeometry;
import dev.advinterp.engine.memory.NativeMemory;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Winograd convolution for 3×3 stride-1 kernels: fewer multiplications than im2col + GEMM for the
 * same result up to float32 rounding.
 *
 * <p>Forward, F(m×m, 3×3) with α = m + 2: the output is cut into m×m tiles, each read from an α×α
 * input patch. With U = G g Gᵀ (each 3×3 filter, α×α), V = Bᵀ d B (each patch) and, for each of the
 * α² positions ξ, {@code M_ξ [cOut, T] = U_ξ [cOut, cIn] · V_ξ [cIn, T]} (T tiles, one GEMM each),
 * every tile of the output is Aᵀ M A. The GEMMs do α²/(9·m²) of im2col's multiply-adds: 0.44 for
 * F(2×2, 3×3), 0.25 for F(4×4, 3×3). {@link #tile()} is 2; see its comment for the measured error
 * of both.
 *
 * <p>Backward data is the forward convolution of dy with the filters flipped in both axes and
 * cIn and cOut swapped, padding 2 − pad (so pad ≤ 2). Backward filter is F(3×3, 2×2): dy in 2×2
 * tiles, x in the same 4×4 patches as the forward F(2×2, 3×3), and
 * {@code Σ_tiles DY_ξ [cOut, T] · X_ξ [cIn, T]ᵀ} for each ξ, then Aᵀ Σ A per filter.
 *
 * <p>Transforms, per channel and group of images: the planes are copied into zero-framed heap
 * planes, so that every tile's patch lies inside; the patch elements of {@link #CHUNK} tiles at a
 * time are gathered (one vector gather per element), transformed along the rows and then the
 * columns by 1-D transforms on vectors across tiles, and stored contiguously into V. The output
 * transform reads M the same way and scatters each tile into a framed plane, whose in-plane part
 * goes to y. Threads, image grouping and the split between Java's threads and the GEMM's are those
 * of {@link CpuConv2d}; the transformed weights, the per-thread filter-gradient sums and each
 * thread's V and M live in one block taken from the host cache for the call ({@code CallMemory}).
 * No sum depends on timing: results are the same bits on every run.
 *
 * <p>Off with {@code -Dadvinterp.conv.winograd=false} (im2col + GEMM everywhere, for comparison).
 *
 * <p>Why one long class: the three passes share the tile transforms, the framed planes, the
 * grouping of images and the memory of a call, and the transforms of F(2×2, 3×3), F(4×4, 3×3) and
 * F(3×3, 2×2) are only correct together (the backward pass inverts the forward's); split, each
 * piece would have to be read with the others open.
 */
public final class CpuWinograd {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    /** Whether Winograd is used where it applies ({@code advinterp.conv.winograd}, default true; read at each call). */
    public static boolean enabled() {
        return EngineConfig.current().winograd();
    }

    /**
     * Output tile m of the forward and backward-data passes: 2, or 4 with
     * {@code -Dadvinterp.conv.winograd.tile=4} (for comparison only). F(4×4, 3×3) does 0.56 of
     * F(2×2, 3×3)'s GEMM work, but its transforms (coefficients up to 8 and 1/24) cost float32
     * accuracy. Measured ({@code CpuWinogradTest#errorOfBothTileSizes}, max error over max value on
     * a 64-channel 16×16 layer): forward 2.0e-7 with F(2×2), 3.4e-6 with F(4×4), 3.6e-7 by im2col;
     * backward data 3.0e-7, 8.9e-6 and 1.7e-7. The golden model tests against PyTorch pass with
     * F(2×2) but not with F(4×4): the ResNet-18 32×32 input gradient errs by 1.5e-3 (tolerance 1e-3),
     * and 1.3% and 6.2% of the 224×224 VGG-16 and VGG-16-BN input gradients exceed 1e-3 of their
     * largest element (0.3% and 0.5% with F(2×2)). Hence 2.
     */
    static int tile() {
        return EngineConfig.current().winogradTile();
    }
    /**
     * Fewer input or output channels than this make thin GEMMs (K = cIn) whose cost the transforms
     * no longer repay (a 3-channel stem).
     */
    static final int MIN_CHANNELS = 16;
    /** Tiles per group of images: GEMMs wide enough to run near the library's speed, V and M mostly in cache. */
    static final int TARGET_TILES = 1024;
    private static final long WORKSPACE_FLOATS = 32L << 20;
    /** Filters per block of the weight transforms. */
    private static final int FILTER_BLOCK = 256;

    private CpuWinograd() {
    }

    private static boolean threeByThree(ConvGeometry g) {
        return g.kh() == 3 && g.kw() == 3 && g.strideH() == 1 && g.strideW() == 1;
    }

    /** Whether the forward pass of {@code g} goes through Winograd. */
    public static boolean appliesForward(ConvGeometry g) {
        return enabled() && threeByThree(g) && g.cIn() >= MIN_CHANNELS && g.cOut() >= MIN_CHANNELS;
    }

    /** Whether the backward-data pass goes through Winograd (the forward with padding 2 − pad). */
    public static boolean appliesBackwardData(ConvGeometry g) {
        return appliesForward(g) && g.padH() <= 2 && g.padW() <= 2;
    }

    /** Whether the backward-filter pass goes through Winograd F(3×3, 2×2). */
    public static boolean appliesBackwardFilter(ConvGeometry g) {
        return appliesForward(g);
    }

    // ------------------------------------------------------------------ passes

    static void forward(Gemm gemm, MemorySegment x, MemorySegment w, MemorySegment bias, ConvGeometry g, MemorySegment y) {
        forward(gemm, x, w, bias, g, y, tile());
    }

    static void forward(Gemm gemm, MemorySegment x, MemorySegment w, MemorySegment bias, ConvGeometry g, MemorySegment y,
                        int m) {
        convolve(gemm, x, w, false, g, y, m);
        if (bias != null) CpuElementwise.addBias(y, bias, g.n(), g.cOut(), g.outH() * g.outW());
    }

    static void backwardData(Gemm gemm, MemorySegment dy, MemorySegment w, ConvGeometry g, MemorySegment dx) {
        backwardData(gemm, dy, w, g, dx, tile());
    }

    static void backwardData(Gemm gemm, MemorySegment dy, MemorySegment w, ConvGeometry g, MemorySegment dx, int m) {
        if (g.padH() > 2 || g.padW() > 2) {
            throw new IllegalArgumentException("Winograd backward data needs padding at most 2, got " + g);
        }
        ConvGeometry t = new ConvGeometry(g.n(), g.cOut(), g.outH(), g.outW(), g.cIn(), 3, 3, 1, 1, 2 - g.padH(), 2 - g.padW());
        convolve(gemm, dy, w, true, t, dx, m);
    }

    /**
     * y = the convolution of x with the filters w [g.cOut, g.cIn, 3, 3], or with {@code flipped}
     * (backward data, g the transposed geometry) with w [g.cIn, g.cOut, 3, 3] rotated by 180°.
     */
    private static void convolve(Gemm gemm, MemorySegment x, MemorySegment w, boolean flipped, ConvGeometry g, MemorySegment y,
                                 int m) {
        int a2 = (m + 2) * (m + 2), cIn = g.cIn(), cOut = g.cOut();
        Tiling tl = new Tiling(g, m);
        int threads = CpuConv2d.splitsImages(gemm, g.n()) ? Parallel.THREADS : 1;
        long tiles = tl.groupTiles(g.n(), threads, cIn + cOut), filters = (long) cOut * cIn;
        try (CallMemory mem = new CallMemory(a2 * filters, threads, a2 * cIn * tiles, a2 * cOut * tiles)) {
            MemorySegment u = flipped ? transformWeights(w, cIn, cOut, true, m, mem.shared) : transformWeights(w, cOut, cIn, false, m, mem.shared);
            convolve(gemm, x, u, g, y, m, tl, mem.in, mem.out);
        }
    }

    /** y = the convolution of x with the filters whose transforms are u ([α², cOut·cIn]); V and M per thread. */
    private static void convolve(Gemm gemm, MemorySegment x, MemorySegment u, ConvGeometry g, MemorySegment y, int m,
                                 Tiling tl, MemorySegment[] vs, MemorySegment[] ms) {
        int a2 = (m + 2) * (m + 2), cIn = g.cIn(), cOut = g.cOut();
        CpuConv2d.forImages(gemm, g.n(), (from, to, thread, parallel) -> {
            int group = tl.groupSize(to - from, cIn + cOut);
            MemorySegment v = vs[thread], mm = ms[thread];
            for (int n0 = from; n0 < to; n0 += group) {
                int gs = Math.min(group, to - n0), tiles = gs * tl.perImage;
                int fn0 = n0;
                CpuConv2d.loop(parallel, cIn, 1, (s, e) -> {
                    Scratch sc = Scratch.get();
                    for (int c = s; c < e; c++) {
                        inputTiles(x, (long) fn0 * cIn + c, cIn, gs, g.h(), g.w(), g.padH(), g.padW(), tl, m,
                                v, (long) c * tiles, (long) cIn * tiles, sc);
                    }
                });
                for (int xi = 0; xi < a2; xi++) {
                    gemm.sgemm(false, false, cOut, tiles, cIn, 1f, u, (long) xi * cOut * cIn, cIn,
                            v, (long) xi * cIn * tiles, tiles, 0f, mm, (long) xi * cOut * tiles, tiles);
                }
                CpuConv2d.loop(parallel, cOut, 1, (s, e) -> {
                    Scratch sc = Scratch.get();
                    for (int co = s; co < e; co++) {
                        outputTiles(mm, (long) co * tiles, (long) cOut * tiles, gs, tl, m, y, (long) fn0 * cOut + co, cOut, sc);
                    }
                });
            }
        });
    }

    static void backwardFilter(Gemm gemm, MemorySegment x, MemorySegment dy, ConvGeometry g, MemorySegment dw, MemorySegment dbias) {
        int cIn = g.cIn(), cOut = g.cOut(), a2 = 16;
        long filters = (long) cOut * cIn, sumSize = a2 * filters;
        Tiling tl = new Tiling(g, 2);
        int sums = CpuConv2d.splitsImages(gemm, g.n()) ? Parallel.THREADS : 1;
        long maxTiles = tl.groupTiles(g.n(), sums, cIn + cOut);
        try (CallMemory mem = new CallMemory(sums * sumSize, sums, a2 * cIn * maxTiles, a2 * cOut * maxTiles)) {
            sumFilterGradients(gemm, x, dy, g, tl, mem.shared, sumSize, mem.in, mem.out);
            filterGradients(mem.shared, sums, sumSize, filters, dw);
        }
        if (dbias != null) CpuElementwise.sumBias(dy, g.n(), cOut, g.outH() * g.outW(), dbias);
    }

    /** Each thread's sum over its images of the transformed products, into sum at thread · sumSize. */
    private static void sumFilterGradients(Gemm gemm, MemorySegment x, MemorySegment dy, ConvGeometry g, Tiling tl,
                                           MemorySegment sum, long sumSize, MemorySegment[] xts, MemorySegment[] dts) {
        int cIn = g.cIn(), cOut = g.cOut(), a2 = 16;
        long filters = (long) cOut * cIn;
        CpuConv2d.forImages(gemm, g.n(), (from, to, thread, parallel) -> {
            long sumOff = thread * sumSize;
            int group = tl.groupSize(to - from, cIn + cOut);
            MemorySegment xt = xts[thread], dt = dts[thread];
            for (int n0 = from; n0 < to; n0 += group) {
                int gs = Math.min(group, to - n0), tiles = gs * tl.perImage;
                int fn0 = n0;
                CpuConv2d.loop(parallel, cIn + cOut, 1, (s, e) -> {
                    Scratch sc = Scratch.get();
                    for (int c = s; c < e; c++) {
                        if (c < cIn) {
                            inputTiles(x, (long) fn0 * cIn + c, cIn, gs, g.h(), g.w(), g.padH(), g.padW(), tl, 2,
                                    xt, (long) c * tiles, (long) cIn * tiles, sc);
                        } else {
                            gradientTiles(dy, (long) fn0 * cOut + c - cIn, cOut, gs, tl, dt, (long) (c - cIn) * tiles,
                                    (long) cOut * tiles, sc);
                        }
                    }
                });
                float beta = n0 == from ? 0f : 1f;
                for (int xi = 0; xi < a2; xi++) {
                    gemm.sgemm(false, true, cOut, cIn, tiles, 1f, dt, (long) xi * cOut * tiles, tiles,
                            xt, (long) xi * cIn * tiles, tiles, beta, sum, sumOff + xi * filters, cIn);
                }
            }
        });
    }

    // ------------------------------------------------------------------ tiling

    /** How a geometry's output is cut into m×m tiles. */
    private record Tiling(int oh, int ow, int th, int tw, int perImage, long imageFloats) {
        Tiling(ConvGeometry g, int m) {
            this(g.outH(), g.outW(), ceil(g.outH(), m), ceil(g.outW(), m), m);
        }

        private Tiling(int oh, int ow, int th, int tw, int m) {
            this(oh, ow, th, tw, th * tw, (long) (m + 2) * (m + 2) * th * tw);
        }

        /** Images per group: about {@link #TARGET_TILES} tiles, V and M within the workspace budget. */
        int groupSize(int images, int channels) {
            int want = Math.max(1, ceil(TARGET_TILES, perImage));
            int fit = (int) Math.max(1, WORKSPACE_FLOATS / Math.max(1, imageFloats * channels));
            return Math.min(images, Math.min(want, fit));
        }

        /** The most tiles a group can hold when n images are split over {@code threads} threads. */
        long groupTiles(int n, int threads, int channels) {
            return (long) groupSize(ceil(n, threads), channels) * perImage;
        }
    }

    /**
     * The memory of one call: the transformed filters or the filter-gradient sums, and V and M of
     * each thread, taken from the host cache as one block when the call starts and given back when
     * it ends. Kept between calls, as im2col's workspaces are, these buffers (up to tens of MiB on
     * the wide layers) sat beside the tensors at a training step's peak; given back, they serve the
     * next tensors, and taking them again is a lookup in the cache ({@link NativeMemory}).
     */
    private static final class CallMemory implements AutoCloseable {
        /** Floats per slice boundary: 64 bytes, so that every slice is as aligned as the block. */
        private static final long ALIGN = 16;
        private final MemorySegment block;
        /** The caller's slice (U, or the filter-gradient sums); each thread's V (or X) and M (or DY). */
        final MemorySegment shared;
        final MemorySegment[] in, out;

        CallMemory(long sharedFloats, int threads, long inFloats, long outFloats) {
            long perThread = round(inFloats) + round(outFloats);
            block = NativeMemory.allocate((round(sharedFloats) + threads * perThread) * Float.BYTES);
            shared = slice(0, sharedFloats);
            in = new MemorySegment[threads];
            out = new MemorySegment[threads];
            for (int t = 0; t < threads; t++) {
                long at = round(sharedFloats) + t * perThread;
                in[t] = slice(at, inFloats);
                out[t] = slice(at + round(inFloats), outFloats);
            }
        }

        private static long round(long floats) {
            return (floats + ALIGN - 1) / ALIGN * ALIGN;
        }

        private MemorySegment slice(long atFloat, long floats) {
            return block.asSlice(atFloat * Float.BYTES, floats * Float.BYTES);
        }

        @Override
        public void close() {
            NativeMemory.free(block);
        }
    }

    private static int ceil(int a, int b) {
        return (a + b - 1) / b;
    }

    /** Tiles transformed together: the 1-D transforms run over runs of this many. */
    private static final int CHUNK = 4 * L;

    /**
     * Per-thread heap scratch, grown to the largest group seen: the planes of one channel (padded
     * so that every tile's patch lies inside), the offset of each tile's patch in them, and the
     * chunk's values between the transform stages.
     */
    private static final class Scratch {
        private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);
        float[] planes = new float[0], raw = new float[0], tmp = new float[0];
        int[] index = new int[0];
        final int[] in = new int[6], out = new int[6];

        static Scratch get() {
            return LOCAL.get();
        }

        void ensure(int planeFloats, int rawFloats, int tiles, int tmpFloats) {
            if (planes.length < planeFloats) planes = new float[planeFloats];
            if (raw.length < rawFloats) raw = new float[rawFloats];
            int indexes = ceil(tiles, CHUNK) * CHUNK;
            if (index.length < indexes) index = new int[indexes];
            if (tmp.length < tmpFloats) tmp = new float[tmpFloats];
        }

        /**
         * index[t] = the offset of tile t's top-left corner among {@code gs} planes of hp × wp,
         * tiles m apart; the chunk past the last tile points at 0 (read, never written back).
         */
        void tileIndex(int gs, Tiling tl, int m, int hp, int wp) {
            int t = 0;
            for (int img = 0; img < gs; img++) {
                for (int ty = 0; ty < tl.th; ty++) {
                    int row = img * hp * wp + m * ty * wp;
                    for (int tx = 0; tx < tl.tw; tx++) index[t++] = row + m * tx;
                }
            }
            Arrays.fill(index, t, ceil(t, CHUNK) * CHUNK, 0);
        }
    }

    /**
     * Copies {@code gs} planes (plane {@code first + img·stride} of {@code src}, rows × cols) into
     * sc.planes, each at (top, left) of a zeroed hp × wp frame.
     */
    private static void framePlanes(MemorySegment src, long first, long stride, int gs, int rows, int cols, int top, int left,
                                    int hp, int wp, Scratch sc) {
        float[] planes = sc.planes, raw = sc.raw;
        int size = rows * cols;
        Arrays.fill(planes, 0, gs * hp * wp, 0f);
        for (int img = 0; img < gs; img++) {
            MemorySegment.copy(src, F, (first + img * stride) * size * 4, raw, 0, size);
            int base = img * hp * wp + top * wp + left;
            for (int r = 0; r < rows; r++) System.arraycopy(raw, r * cols, planes, base + r * wp, cols);
        }
    }

    /**
     * V[ξ, c, t] = (Bᵀ d_t B)[ξ] for the tiles t of {@code gs} images of one channel (plane
     * {@code first + img·stride} of x), ξ at stride {@code xiStride}, tile 0 at {@code vOff}. Tile
     * (ty, tx) reads input rows m·ty − padH + [0, α) and columns m·tx − padW + [0, α), zero outside.
     */
    private static void inputTiles(MemorySegment x, long first, long stride, int gs, int h, int w, int padH, int padW,
                                   Tiling tl, int m, MemorySegment v, long vOff, long xiStride, Scratch sc) {
        int alpha = m + 2, a2 = alpha * alpha, hp = m * tl.th + 2, wp = m * tl.tw + 2, tiles = gs * tl.perImage;
        sc.ensure(gs * hp * wp, h * w, tiles, 2 * a2 * CHUNK);
        framePlanes(x, first, stride, gs, h, w, padH, padW, hp, wp, sc);
        sc.tileIndex(gs, tl, m, hp, wp);
        float[] planes = sc.planes, tmp = sc.tmp;
        int[] index = sc.index, in = sc.in, o = sc.out;
        int rowsAt = a2 * CHUNK;
        for (int t0 = 0; t0 < tiles; t0 += CHUNK) {
            // d[r, j] of each tile, then along the rows: rowsAt + (r·α + k)·CHUNK
            for (int r = 0; r < alpha; r++) {
                for (int j = 0; j < alpha; j++) {
                    for (int q = 0; q < CHUNK; q += L) {
                        FloatVector.fromArray(S, planes, r * wp + j, index, t0 + q).intoArray(tmp, (r * alpha + j) * CHUNK + q);
                    }
                    in[j] = (r * alpha + j) * CHUNK;
                    o[j] = rowsAt + (r * alpha + j) * CHUNK;
                }
                inputTransform(m, tmp, in, tmp, o, CHUNK);
            }
            // down the columns: (k1·α + k2)·CHUNK
            for (int k2 = 0; k2 < alpha; k2++) {
                for (int r = 0; r < alpha; r++) {
                    in[r] = rowsAt + (r * alpha + k2) * CHUNK;
                    o[r] = (r * alpha + k2) * CHUNK;
                }
                inputTransform(m, tmp, in, tmp, o, CHUNK);
            }
            store(tmp, a2, v, vOff + t0, xiStride, Math.min(CHUNK, tiles - t0));
        }
    }

    /** Row ξ of the chunk (tmp[ξ·CHUNK + i], i < count) to dst[off + ξ·xiStride + i], for ξ < rows. */
    private static void store(float[] tmp, int rows, MemorySegment dst, long off, long xiStride, int count) {
        for (int xi = 0; xi < rows; xi++) {
            long at = (off + xi * xiStride) * 4;
            for (int q = 0; q < count; q += L) {
                FloatVector val = FloatVector.fromArray(S, tmp, xi * CHUNK + q);
                if (q + L <= count) val.intoMemorySegment(dst, at + q * 4L, NATIVE);
                else val.intoMemorySegment(dst, at + q * 4L, NATIVE, S.indexInRange(q, count));
            }
        }
    }

    /**
     * The Winograd transform of dy's 2×2 tiles for backward filter ({@code gs} images of one output
     * channel; rows and columns past the output are zero), laid out as {@link #inputTiles} lays out V.
     */
    private static void gradientTiles(MemorySegment dy, long first, long stride, int gs, Tiling tl, MemorySegment d, long dOff,
                                      long xiStride, Scratch sc) {
        int hp = 2 * tl.th, wp = 2 * tl.tw, tiles = gs * tl.perImage;
        sc.ensure(gs * hp * wp, tl.oh * tl.ow, tiles, 2 * 16 * CHUNK);
        framePlanes(dy, first, stride, gs, tl.oh, tl.ow, 0, 0, hp, wp, sc);
        sc.tileIndex(gs, tl, 2, hp, wp);
        float[] planes = sc.planes, tmp = sc.tmp;
        int[] index = sc.index, in = sc.in, o = sc.out;
        int rowsAt = 16 * CHUNK;
        for (int t0 = 0; t0 < tiles; t0 += CHUNK) {
            for (int r = 0; r < 2; r++) {
                for (int j = 0; j < 2; j++) {
                    for (int q = 0; q < CHUNK; q += L) {
                        FloatVector.fromArray(S, planes, r * wp + j, index, t0 + q).intoArray(tmp, (r * 2 + j) * CHUNK + q);
                    }
                    in[j] = (r * 2 + j) * CHUNK;
                }
                for (int k = 0; k < 4; k++) o[k] = rowsAt + (r * 4 + k) * CHUNK;
                gradientTransform(tmp, in, tmp, o, CHUNK);
            }
            for (int k2 = 0; k2 < 4; k2++) {
                for (int r = 0; r < 2; r++) in[r] = rowsAt + (r * 4 + k2) * CHUNK;
                for (int k1 = 0; k1 < 4; k1++) o[k1] = (k1 * 4 + k2) * CHUNK;
                gradientTransform(tmp, in, tmp, o, CHUNK);
            }
            store(tmp, 16, d, dOff + t0, xiStride, Math.min(CHUNK, tiles - t0));
        }
    }

    /**
     * The output planes of one channel for {@code gs} images (plane {@code first + img·stride} of y)
     * from M[ξ, ·, t], ξ at stride {@code xiStride}, tile 0 at {@code mOff}: each tile is Aᵀ M A,
     * of which the part inside the plane is written.
     */
    private static void outputTiles(MemorySegment mm, long mOff, long xiStride, int gs, Tiling tl, int m, MemorySegment y,
                                    long first, long stride, Scratch sc) {
        int alpha = m + 2, a2 = alpha * alpha, hp = m * tl.th, wp = m * tl.tw, tiles = gs * tl.perImage;
        sc.ensure(gs * hp * wp, 0, tiles, 2 * a2 * CHUNK);
        sc.tileIndex(gs, tl, m, hp, wp);
        float[] planes = sc.planes, tmp = sc.tmp;
        int[] index = sc.index, in = sc.in, o = sc.out;
        int halfAt = a2 * CHUNK;
        for (int t0 = 0; t0 < tiles; t0 += CHUNK) {
            int count = Math.min(CHUNK, tiles - t0);
            for (int xi = 0; xi < a2; xi++) {
                long at = (mOff + xi * xiStride + t0) * 4;
                for (int q = 0; q < CHUNK; q += L) {
                    FloatVector val = q + L <= count ? FloatVector.fromMemorySegment(S, mm, at + q * 4L, NATIVE)
                            : FloatVector.fromMemorySegment(S, mm, at + q * 4L, NATIVE, S.indexInRange(q, count));
                    val.intoArray(tmp, xi * CHUNK + q);
                }
            }
            // down the columns: halfAt + (i·α + k2)·CHUNK = Σ_k1 Aᵀ[i, k1] M[k1·α + k2]
            for (int k2 = 0; k2 < alpha; k2++) {
                for (int k1 = 0; k1 < alpha; k1++) in[k1] = (k1 * alpha + k2) * CHUNK;
                for (int i = 0; i < m; i++) o[i] = halfAt + (i * alpha + k2) * CHUNK;
                outputTransform(m, tmp, in, tmp, o, CHUNK);
            }
            for (int i = 0; i < m; i++) {
                for (int k2 = 0; k2 < alpha; k2++) in[k2] = halfAt + (i * alpha + k2) * CHUNK;
                for (int j = 0; j < m; j++) o[j] = (i * m + j) * CHUNK;
                outputTransform(m, tmp, in, tmp, o, CHUNK);
            }
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < m; j++) {
                    for (int q = 0; q < count; q += L) {
                        FloatVector val = FloatVector.fromArray(S, tmp, (i * m + j) * CHUNK + q);
                        if (q + L <= count) val.intoArray(planes, i * wp + j, index, t0 + q);
                        else val.intoArray(planes, i * wp + j, index, t0 + q, S.indexInRange(q, count));
                    }
                }
            }
        }
        // the tiles' frames hold whole tiles: only oh × ow of each goes to y
        int size = tl.oh * tl.ow;
        for (int img = 0; img < gs; img++) {
            long dst = (first + img * stride) * size * 4;
            if (wp == tl.ow && hp == tl.oh) {
                MemorySegment.copy(planes, img * size, y, F, dst, size);
                continue;
            }
            for (int r = 0; r < tl.oh; r++) {
                MemorySegment.copy(planes, img * hp * wp + r * wp, y, F, dst + (long) r * tl.ow * 4, tl.ow);
            }
        }
    }

    // ------------------------------------------------------------------ filters

    /**
     * U[ξ, p] = (G g_p Gᵀ)[ξ] for the filters p = co·cIn + ci of w [cOut, cIn, 3, 3]; with
     * {@code flipped}, p = ci·cOut + co and g_p is filter (co, ci) rotated by 180° (backward data).
     * Into u, laid out as the GEMMs' A operands [α²][rows, cols].
     */
    private static MemorySegment transformWeights(MemorySegment w, int cOut, int cIn, boolean flipped, int m, MemorySegment u) {
        int alpha = m + 2, a2 = alpha * alpha;
        long filters = (long) cOut * cIn;
        int blocks = (int) ((filters + FILTER_BLOCK - 1) / FILTER_BLOCK);
        Parallel.forRange(blocks, 1, (s, e) -> {
            Scratch sc = Scratch.get();
            int bl = FILTER_BLOCK;
            sc.ensure(0, 0, 0, (9 + 3 * alpha + a2) * bl);
            float[] buf = sc.tmp;
            int[] in = sc.in, o = sc.out;
            int gAt = 0, halfAt = 9 * bl, uAt = halfAt + 3 * alpha * bl;
            for (int blk = s; blk < e; blk++) {
                long p0 = (long) blk * bl;
                int count = (int) Math.min(bl, filters - p0);
                for (int q = 0; q < count; q++) {
                    long p = p0 + q;
                    long src = flipped ? ((p % cOut) * cIn + p / cOut) * 9 : p * 9;
                    for (int k = 0; k < 9; k++) {
                        buf[gAt + k * bl + q] = w.getAtIndex(F, src + (flipped ? 8 - k : k));
                    }
                }
                // down the columns: half[k1·3 + j] = Σ_r G[k1, r] g[r·3 + j]
                for (int j = 0; j < 3; j++) {
                    for (int r = 0; r < 3; r++) in[r] = gAt + (r * 3 + j) * bl;
                    for (int k1 = 0; k1 < alpha; k1++) o[k1] = halfAt + (k1 * 3 + j) * bl;
                    filterTransform(m, buf, in, buf, o, bl);
                }
                for (int k1 = 0; k1 < alpha; k1++) {
                    for (int j = 0; j < 3; j++) in[j] = halfAt + (k1 * 3 + j) * bl;
                    for (int k2 = 0; k2 < alpha; k2++) o[k2] = uAt + (k1 * alpha + k2) * bl;
                    filterTransform(m, buf, in, buf, o, bl);
                }
                for (int xi = 0; xi < a2; xi++) {
                    MemorySegment.copy(buf, uAt + xi * bl, u, F, (xi * filters + p0) * 4, count);
                }
            }
        });
        return u;
    }

    /**
     * dw[p, i, j] = (Aᵀ Σ_t sum_t[·, p] A)[i, j] of F(3×3, 2×2), summing the {@code sums} per-thread
     * partial sums in thread order.
     */
    private static void filterGradients(MemorySegment sum, int sums, long sumSize, long filters, MemorySegment dw) {
        int blocks = (int) ((filters + FILTER_BLOCK - 1) / FILTER_BLOCK);
        Parallel.forRange(blocks, 1, (s, e) -> {
            Scratch sc = Scratch.get();
            int bl = FILTER_BLOCK;
            sc.ensure(0, bl, 0, (16 + 12 + 9) * bl);
            float[] buf = sc.tmp, add = sc.raw;
            int[] in = sc.in, o = sc.out;
            int halfAt = 16 * bl, outAt = halfAt + 12 * bl;
            for (int blk = s; blk < e; blk++) {
                long p0 = (long) blk * bl;
                int count = (int) Math.min(bl, filters - p0);
                for (int xi = 0; xi < 16; xi++) {
                    MemorySegment.copy(sum, F, (xi * filters + p0) * 4, buf, xi * bl, count);
                    for (int t = 1; t < sums; t++) {
                        MemorySegment.copy(sum, F, (t * sumSize + xi * filters + p0) * 4, add, 0, count);
                        for (int q = 0; q < bl; q += L) {
                            FloatVector.fromArray(S, buf, xi * bl + q).add(FloatVector.fromArray(S, add, q))
                                    .intoArray(buf, xi * bl + q);
                        }
                    }
                }
                for (int k2 = 0; k2 < 4; k2++) {
                    for (int k1 = 0; k1 < 4; k1++) in[k1] = (k1 * 4 + k2) * bl;
                    for (int i = 0; i < 3; i++) o[i] = halfAt + (i * 4 + k2) * bl;
                    filterGradientTransform(buf, in, buf, o, bl);
                }
                for (int i = 0; i < 3; i++) {
                    for (int k2 = 0; k2 < 4; k2++) in[k2] = halfAt + (i * 4 + k2) * bl;
                    for (int j = 0; j < 3; j++) o[j] = outAt + (i * 3 + j) * bl;
                    filterGradientTransform(buf, in, buf, o, bl);
                }
                for (int q = 0; q < count; q++) {
                    long at = (p0 + q) * 9;
                    for (int k = 0; k < 9; k++) dw.setAtIndex(F, at + k, buf[outAt + k * bl + q]);
                }
            }
        });
    }

    // ------------------------------------------------------------------ 1-D transforms
    // Each applies one matrix to vectors: input i at src[in[i] + x], output k at dst[out[k] + x], for
    // x in [0, len), len a multiple of the vector length. Inputs and outputs may share an array
    // when they do not overlap.

    private static FloatVector at(float[] a, int off) {
        return FloatVector.fromArray(S, a, off);
    }

    /** Bᵀ of F(2×2, 3×3) (α = 4) or F(4×4, 3×3) (α = 6). */
    static void inputTransform(int m, float[] src, int[] in, float[] dst, int[] out, int len) {
        if (m == 2) {
            for (int x = 0; x < len; x += L) {
                FloatVector d0 = at(src, in[0] + x), d1 = at(src, in[1] + x), d2 = at(src, in[2] + x), d3 = at(src, in[3] + x);
                d0.sub(d2).intoArray(dst, out[0] + x);
                d1.add(d2).intoArray(dst, out[1] + x);
                d2.sub(d1).intoArray(dst, out[2] + x);
                d1.sub(d3).intoArray(dst, out[3] + x);
            }
        } else {
            for (int x = 0; x < len; x += L) {
                FloatVector d0 = at(src, in[0] + x), d1 = at(src, in[1] + x), d2 = at(src, in[2] + x);
                FloatVector d3 = at(src, in[3] + x), d4 = at(src, in[4] + x), d5 = at(src, in[5] + x);
                FloatVector p = d2.mul(-4f).add(d4), q = d1.mul(-4f).add(d3);
                FloatVector r = d4.sub(d2), s = d3.sub(d1).mul(2f);
                d0.mul(4f).add(d2.mul(-5f)).add(d4).intoArray(dst, out[0] + x);
                p.add(q).intoArray(dst, out[1] + x);
                p.sub(q).intoArray(dst, out[2] + x);
                r.add(s).intoArray(dst, out[3] + x);
                r.sub(s).intoArray(dst, out[4] + x);
                d1.mul(4f).add(d3.mul(-5f)).add(d5).intoArray(dst, out[5] + x);
            }
        }
    }

    /** G of F(2×2, 3×3) or F(4×4, 3×3): 3 inputs, α outputs. */
    static void filterTransform(int m, float[] src, int[] in, float[] dst, int[] out, int len) {
        if (m == 2) {
            for (int x = 0; x < len; x += L) {
                FloatVector g0 = at(src, in[0] + x), g1 = at(src, in[1] + x), g2 = at(src, in[2] + x);
                FloatVector ends = g0.add(g2).mul(0.5f), mid = g1.mul(0.5f);
                g0.intoArray(dst, out[0] + x);
                ends.add(mid).intoArray(dst, out[1] + x);
                ends.sub(mid).intoArray(dst, out[2] + x);
                g2.intoArray(dst, out[3] + x);
            }
        } else {
            for (int x = 0; x < len; x += L) {
                FloatVector g0 = at(src, in[0] + x), g1 = at(src, in[1] + x), g2 = at(src, in[2] + x);
                FloatVector ends = g0.add(g2).mul(-1f / 6), mid = g1.mul(-1f / 6);
                FloatVector ends2 = g0.mul(1f / 24).add(g2.mul(1f / 6)), mid2 = g1.mul(1f / 12);
                g0.mul(0.25f).intoArray(dst, out[0] + x);
                ends.add(mid).intoArray(dst, out[1] + x);
                ends.sub(mid).intoArray(dst, out[2] + x);
                ends2.add(mid2).intoArray(dst, out[3] + x);
                ends2.sub(mid2).intoArray(dst, out[4] + x);
                g2.intoArray(dst, out[5] + x);
            }
        }
    }

    /** Aᵀ of F(2×2, 3×3) or F(4×4, 3×3): α inputs, m outputs. */
    static void outputTransform(int m, float[] src, int[] in, float[] dst, int[] out, int len) {
        if (m == 2) {
            for (int x = 0; x < len; x += L) {
                FloatVector m0 = at(src, in[0] + x), m1 = at(src, in[1] + x), m2 = at(src, in[2] + x), m3 = at(src, in[3] + x);
                m0.add(m1).add(m2).intoArray(dst, out[0] + x);
                m1.sub(m2).sub(m3).intoArray(dst, out[1] + x);
            }
        } else {
            for (int x = 0; x < len; x += L) {
                FloatVector m0 = at(src, in[0] + x), m1 = at(src, in[1] + x), m2 = at(src, in[2] + x);
                FloatVector m3 = at(src, in[3] + x), m4 = at(src, in[4] + x), m5 = at(src, in[5] + x);
                FloatVector sum1 = m1.add(m2), dif1 = m1.sub(m2), sum2 = m3.add(m4), dif2 = m3.sub(m4);
                m0.add(sum1).add(sum2).intoArray(dst, out[0] + x);
                dif2.mul(2f).add(dif1).intoArray(dst, out[1] + x);
                sum2.mul(4f).add(sum1).intoArray(dst, out[2] + x);
                dif2.mul(8f).add(dif1).add(m5).intoArray(dst, out[3] + x);
            }
        }
    }

    /**
     * G of F(3×3, 2×2) with its last row negated (2 inputs, 4 outputs): the negation matches the
     * sign of the last row of F(2×2, 3×3)'s Bᵀ, which backward filter uses for x in its place.
     */
    static void gradientTransform(float[] src, int[] in, float[] dst, int[] out, int len) {
        for (int x = 0; x < len; x += L) {
            FloatVector g0 = at(src, in[0] + x), g1 = at(src, in[1] + x);
            FloatVector h0 = g0.mul(0.5f), h1 = g1.mul(0.5f);
            h0.add(h1).intoArray(dst, out[1] + x);
            h0.sub(h1).intoArray(dst, out[2] + x);
            g0.intoArray(dst, out[0] + x);
            g1.neg().intoArray(dst, out[3] + x);
        }
    }

    /** Aᵀ of F(3×3, 2×2): 4 inputs, 3 outputs. */
    static void filterGradientTransform(float[] src, int[] in, float[] dst, int[] out, int len) {
        for (int x = 0; x < len; x += L) {
            FloatVector m0 = at(src, in[0] + x), m1 = at(src, in[1] + x), m2 = at(src, in[2] + x), m3 = at(src, in[3] + x);
            FloatVector sum = m1.add(m2);
            sum.add(m0).intoArray(dst, out[0] + x);
            m1.sub(m2).intoArray(dst, out[1] + x);
            sum.add(m3).intoArray(dst, out[2] + x);
        }
    }
}
