package dev.advinterp.engine.backend.cuda;

import dev.advinterp.engine.Device;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.Backend;
import dev.advinterp.engine.backend.ConvGeometry;
import dev.advinterp.engine.backend.PoolGeometry;

/**
 * The checks the CUDA backend makes before any native call. A device kernel reading past a
 * tensor does not crash where a Java array would throw; it silently corrupts another tensor or
 * faults the whole context. So every pointer handed to the GPU must belong to this backend and
 * hold exactly the elements the call will touch. Each failure is an IllegalArgumentException
 * naming the operation, the argument and the shapes.
 */
final class CudaChecks {
    private CudaChecks() {
    }

    /** t lives in {@code owner}'s device memory (or is null and {@code nullable}). */
    static void onDevice(String op, String name, Tensor t, Backend owner, boolean nullable) {
        if (t == null) {
            if (nullable) return;
            throw new IllegalArgumentException(op + ": " + name + " is null");
        }
        if (t.device() != Device.CUDA) {
            throw new IllegalArgumentException(op + ": " + name + " " + t.shape() + " is on " + t.device()
                    + ", not on the GPU; move it with Tensor.to(...) or make it on the CUDA backend");
        }
        if (t.memory() != owner.home()) {
            throw new IllegalArgumentException(op + ": " + name + " " + t.shape()
                    + " belongs to another CUDA backend (another GPU or a closed one)");
        }
    }

    static void numel(String op, String name, Tensor t, long want) {
        if (t != null && t.numel() != want) {
            throw new IllegalArgumentException(op + ": " + name + " " + t.shape() + " has " + t.numel()
                    + " elements, expected " + want);
        }
    }

    static void sameNumel(String op, Tensor a, String an, Tensor b, String bn) {
        if (a.numel() != b.numel()) {
            throw new IllegalArgumentException(op + ": " + an + " " + a.shape() + " and " + bn + " " + b.shape()
                    + " differ in size");
        }
    }

    /** {@code outer·channels·inner} fits t, with positive sizes. */
    static void planes(String op, String name, Tensor t, int outer, int channels, int inner) {
        if (outer < 0 || channels <= 0 || inner < 0) {
            throw new IllegalArgumentException(op + ": sizes outer=" + outer + " channels=" + channels + " inner=" + inner
                    + " must not be negative (channels positive)");
        }
        numel(op, name, t, (long) outer * channels * inner);
    }

    /** A row-major rows×cols matrix with leading dimension ld at float offset {@code offset} lies inside t. */
    static void gemmMatrix(String name, Tensor t, long offset, int rows, int cols, int ld) {
        // compared as extent > numel − offset: offset + extent could overflow a long and pass
        if (ld < Math.max(1, cols) || offset < 0 || offset > t.numel() || (long) (rows - 1) * ld + cols > t.numel() - offset) {
            throw new IllegalArgumentException("gemm: matrix " + name + " (" + rows + "×" + cols + ", ld " + ld + ", offset "
                    + offset + ") does not fit in tensor " + t.shape());
        }
    }

    static void gemmSizes(int m, int n, int k, Tensor a, Tensor b, Tensor c) {
        if (m <= 0 || n <= 0 || k <= 0) {
            throw new IllegalArgumentException("gemm: sizes must be positive, got m=" + m + " n=" + n + " k=" + k
                    + " (A " + a.shape() + ", B " + b.shape() + ", C " + c.shape() + ")");
        }
    }

    /** The geometry is one cuDNN accepts and x, w, y (and bias) hold exactly its elements. */
    static void conv(String op, ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
        boolean ok = g.n() > 0 && g.cIn() > 0 && g.h() > 0 && g.w() > 0 && g.cOut() > 0 && g.kh() > 0 && g.kw() > 0
                && g.strideH() > 0 && g.strideW() > 0 && g.padH() >= 0 && g.padW() >= 0
                && (long) g.h() + 2L * g.padH() >= g.kh() && (long) g.w() + 2L * g.padW() >= g.kw()
                && (long) g.h() + 2L * g.padH() <= Integer.MAX_VALUE && (long) g.w() + 2L * g.padW() <= Integer.MAX_VALUE;
        if (!ok) throw new IllegalArgumentException(op + ": invalid geometry " + g);
        numel(op, "input", x, (long) g.n() * g.cIn() * g.h() * g.w());
        numel(op, "weight", w, (long) g.cOut() * g.cIn() * g.kh() * g.kw());
        numel(op, "output", y, (long) g.n() * g.cOut() * g.outH() * g.outW());
        numel(op, "bias", bias, g.cOut());
    }

    /** cuDNN needs the window inside the padded input and padding smaller than the window. */
    static void pool(String op, PoolGeometry g, Tensor x, Tensor y) {
        boolean ok = g.n() > 0 && g.c() > 0 && g.h() > 0 && g.w() > 0 && g.kh() > 0 && g.kw() > 0 && g.strideH() > 0
                && g.strideW() > 0 && g.padH() >= 0 && g.padW() >= 0 && g.padH() < g.kh() && g.padW() < g.kw()
                && (long) g.h() + 2L * g.padH() >= g.kh() && (long) g.w() + 2L * g.padW() >= g.kw();
        if (!ok) throw new IllegalArgumentException(op + ": invalid geometry " + g);
        numel(op, "input", x, (long) g.n() * g.c() * g.h() * g.w());
        numel(op, "output", y, (long) g.n() * g.c() * g.outH() * g.outW());
    }

    static void rank4(String op, String name, Tensor t) {
        if (t.rank() != 4) throw new IllegalArgumentException(op + ": " + name + " " + t.shape() + " must be [n, c, h, w]");
    }

    /** x is [n, c, ...] and every per-channel tensor holds c values. */
    static void batchNorm(String op, Tensor x, Tensor... perChannel) {
        if (x.rank() < 2) throw new IllegalArgumentException(op + ": input " + x.shape() + " must be [n, c, ...]");
        for (Tensor t : perChannel) numel(op, "per-channel tensor", t, x.dim(1));
    }

    static void rowsCols(String op, Tensor x, int rows, int cols) {
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException(op + ": rows=" + rows + " and cols=" + cols + " must be positive");
        }
        numel(op, "input", x, (long) rows * cols);
    }

    static void labels(String op, int[] labels, int rows, int cols) {
        if (labels == null || labels.length < rows) {
            throw new IllegalArgumentException(op + ": " + (labels == null ? "no labels" : labels.length + " labels")
                    + " for " + rows + " rows");
        }
        for (int r = 0; r < rows; r++) {
            if (labels[r] < 0 || labels[r] >= cols) {
                throw new IllegalArgumentException(op + ": label " + labels[r] + " of row " + r + " is not a class index in [0, "
                        + cols + ")");
            }
        }
    }

    /** lo and hi hold one bound, or one per channel. */
    static void bounds(String op, float[] lo, float[] hi, int channels) {
        if (lo == null || hi == null || lo.length != hi.length || (lo.length != 1 && lo.length != channels)) {
            throw new IllegalArgumentException(op + ": bounds lo " + (lo == null ? "null" : lo.length + " values") + " and hi "
                    + (hi == null ? "null" : hi.length + " values") + " must both hold 1 value or one per channel ("
                    + channels + ")");
        }
    }

    /** {@code count} values from {@code offset} fit in an array of {@code length}. */
    static void hostRange(String op, int length, int offset, long count) {
        if (offset < 0 || offset > length || count > length - offset) {
            throw new IllegalArgumentException(op + ": " + count + " values from offset " + offset + " do not fit in an array of "
                    + length);
        }
    }

    static void rowsFitArray(String op, String name, int length, long needed) {
        if (length < needed) {
            throw new IllegalArgumentException(op + ": " + name + " holds " + length + " values, " + needed + " needed");
        }
    }
}
