package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.ChannelsLast;
import dev.advinterp.engine.EngineConfig;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.memory.HostMemory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Activations kept channels-last (NHWC) between the CPU kernels that read and write that layout,
 * so that oneDNN's convolutions, which compute in NHWC, take and give them without a reorder on
 * each side ({@code advinterp.channels.last}, on oneDNN only; {@link ChannelsLast.Mode}). What writes NHWC: the
 * oneDNN convolution's forward output and (mode {@code on}) its backward-data gradient. What reads it and keeps it: max
 * and average pooling on oneDNN ({@link DnnlPooling}), batch norm (forward and backward,
 * {@link CpuBatchNorm}), ReLU forward and backward, the sums ({@code axpby}, {@code scale}), and
 * global average pooling (whose 1×1 output is the same in either layout); where such a kernel
 * meets a row-major operand beside a channels-last one, it rewrites that operand into the layout
 * ({@link #common}, {@link #store}), so one row-major gradient does not turn the rest of the
 * backward row-major. Anything else reads through {@link Tensor#segment()}, which first rewrites
 * the bytes into NCHW in place ({@link #toRowMajor}): the public contract, contiguous NCHW, holds
 * everywhere. Both rewrites are a blocked transpose through a buffer of the host cache.
 */
final class CpuChannelsLast {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Channels moved together by the transpose: one cache line of a source row. */
    private static final int BLOCK = 16;

    /** This process's mode ({@code advinterp.channels.last}, read once). */
    static final ChannelsLast.Mode MODE = EngineConfig.current().channelsLast();

    private CpuChannelsLast() {
    }

    /** The one converter of this backend's layouts, so that equal dimensions make equal layouts. */
    private static final ChannelsLast.Converter TO_ROW_MAJOR = CpuChannelsLast::toRowMajor;

    /** The layout of an NCHW tensor of these dimensions stored NHWC. */
    static ChannelsLast layout(int n, int c, int h, int w) {
        return new ChannelsLast(n, c, h, w, TO_ROW_MAJOR);
    }

    /**
     * The channels-last layout in which an elementwise kernel runs on these tensors, or null for
     * row-major: when one of them is stored channels-last (covering all its elements), the others
     * that are row-major are rewritten into that layout in place ({@link #store}) and the kernel
     * runs on the stored bytes, its output in that layout too. An elementwise map commutes with
     * the transposition, and the rewritten tensors read the same to everyone. Null when none is
     * channels-last, or two are in different layouts (everything is then read row-major).
     */
    static ChannelsLast common(Tensor... ts) {
        ChannelsLast l = null;
        for (Tensor t : ts) {
            ChannelsLast tl = t.storedLayout();
            if (tl == null) continue;
            if (numel(tl) != t.numel() || (l != null && !l.equals(tl))) return null;
            l = tl;
        }
        if (l != null) {
            for (Tensor t : ts) {
                if (t.numel() != numel(l)) return null;
            }
            for (Tensor t : ts) store(t, l);
        }
        return l;
    }

    /** A kernel operand's bytes: as stored when it reads or writes them channels-last, else row-major. */
    static MemorySegment bytes(Tensor t, boolean asStored) {
        return asStored ? t.segmentAsStored() : t.segment();
    }

    /** Rewrites a row-major tensor's bytes into layout {@code l} in place (nothing if they are in it already). */
    static void store(Tensor t, ChannelsLast l) {
        if (l.equals(t.storedLayout())) return;
        transposeInPlace(t.segment(), l.n(), l.c(), l.h() * l.w());
        t.storeAs(l);
    }

    private static long numel(ChannelsLast l) {
        return (long) l.n() * l.c() * l.h() * l.w();
    }

    /** Rewrites NHWC bytes into NCHW in place. */
    static void toRowMajor(ChannelsLast l, MemorySegment data) {
        transposeInPlace(data, l.n(), l.h() * l.w(), l.c());
    }

    /** {@link #transpose} into a buffer of the host cache, copied back. */
    private static void transposeInPlace(MemorySegment data, int n, int rows, int cols) {
        long bytes = (long) n * rows * cols * Float.BYTES;
        MemorySegment tmp = HostMemory.INSTANCE.allocate(bytes);
        try {
            transpose(data, tmp, n, rows, cols);
            MemorySegment.copy(tmp, 0, data, 0, bytes);
        } finally {
            HostMemory.INSTANCE.free(tmp);
        }
    }

    /**
     * Each image's [rows][cols] matrix of {@code src} into [cols][rows] in {@code dst}, in blocks of
     * {@value #BLOCK} columns: NHWC into NCHW with (rows, cols) = (h·w, c), the reverse with (c, h·w).
     */
    static void transpose(MemorySegment src, MemorySegment dst, int n, int rows, int cols) {
        int blocks = (cols + BLOCK - 1) / BLOCK;
        Parallel.forRange(n * blocks, 1, (s, e) -> {
            for (int task = s; task < e; task++) {
                int img = task / blocks, c0 = task % blocks * BLOCK, c1 = Math.min(cols, c0 + BLOCK);
                long base = (long) img * rows * cols;
                for (int r = 0; r < rows; r++) {
                    long row = base + (long) r * cols;
                    for (int c = c0; c < c1; c++) dst.setAtIndex(F, base + (long) c * rows + r, src.getAtIndex(F, row + c));
                }
            }
        });
    }
}
