package dev.advinterp.engine.backend;

import dev.advinterp.engine.Tensor;

/**
 * One call of a {@link Backend} primitive: every check made before its kernels run, and its
 * timing when the backend is profiled. This class is the one place where a backend's arguments
 * are checked, for every backend.
 *
 * <p>Two kinds of check. Each tensor must be present, alive and on the backend's device
 * ({@link #on}): a tensor of another device would hand a foreign address to native code, so this
 * is checked for every call of every backend. And the tensors must hold exactly the elements the
 * call will touch (the other methods): those checks guard native code, which reads or writes past a
 * tensor silently, and are left out for a family whose kernels are Java on bounds-checked segments
 * ({@link KernelFamily#boundsChecked()}), where a mismatch already ends in the segment's exception.
 * Every failure names the operation, the argument and the shapes. {@code Ops} has checked the
 * shapes' meaning before; these checks only keep a direct caller of a backend from crashing the JVM.
 */
final class BackendCall implements AutoCloseable {
    private final Backend backend;
    private final String op;
    private final boolean sizes;
    private final Profiler profiler;
    private final long start;

    BackendCall(Backend backend, String op, KernelFamily family) {
        this.backend = backend;
        this.op = op;
        this.sizes = family == null || !family.boundsChecked();
        Profiler p = backend.profiler();
        this.profiler = p;
        if (p != null) backend.synchronize(); // what was queued before is not this call's time
        this.start = p == null ? 0 : System.nanoTime();
    }

    /** The call's timing ends when the work it queued has finished. */
    @Override
    public void close() {
        if (profiler != null) {
            backend.synchronize();
            profiler.add(op, System.nanoTime() - start);
        }
    }

    // ------------------------------------------------------------------ every call

    /** {@code t} is present, alive and on this backend's device. */
    BackendCall on(String name, Tensor t) {
        if (t == null) throw new IllegalArgumentException(op + ": " + name + " is null");
        return optional(name, t);
    }

    /** {@code t} is null, or alive and on this backend's device. */
    BackendCall optional(String name, Tensor t) {
        if (t == null) return this;
        if (t.isClosed()) {
            throw new IllegalStateException(op + ": " + name + " " + t.shape() + " (made by " + t.origin()
                    + ") was used after it was closed; keep it with Scope.keep(...) if it must outlive its scope");
        }
        if (!backend.owns(t)) {
            throw new IllegalArgumentException(op + ": " + name + " " + t.shape() + " is on " + t.device() + " (" + t.memory().describe()
                    + "), not on this backend's device, " + backend.device() + " (" + backend.describe()
                    + "); copy it there (toArray, then Tensor.of in a scope on this backend) or make it there");
        }
        return this;
    }

    /** {@code count} values from {@code offset} fit in a Java array of {@code length}; checked for every backend. */
    BackendCall hostRange(int length, int offset, long count) {
        if (offset < 0 || offset > length || count > length - offset) {
            throw new IllegalArgumentException(op + ": " + count + " values from offset " + offset + " do not fit in an array of "
                    + length);
        }
        return this;
    }

    // ------------------------------------------------------------------ sizes (native code)

    BackendCall numel(String name, Tensor t, long want) {
        if (sizes && t != null && t.numel() != want) {
            throw new IllegalArgumentException(op + ": " + name + " " + t.shape() + " has " + t.numel() + " elements, expected " + want);
        }
        return this;
    }

    BackendCall sameNumel(Tensor a, String an, Tensor b, String bn) {
        if (sizes && a.numel() != b.numel()) {
            throw new IllegalArgumentException(op + ": " + an + " " + a.shape() + " and " + bn + " " + b.shape() + " differ in size");
        }
        return this;
    }

    /** {@code outer·channels·inner} is t's size, with sizes that are not negative (channels positive). */
    BackendCall planes(String name, Tensor t, int outer, int channels, int inner) {
        if (!sizes) return this;
        if (outer < 0 || channels <= 0 || inner < 0) {
            throw new IllegalArgumentException(op + ": sizes outer=" + outer + " channels=" + channels + " inner=" + inner
                    + " must not be negative (channels positive)");
        }
        return numel(name, t, (long) outer * channels * inner);
    }

    /** Positive sizes, and each matrix, with its offset and leading dimension, inside its tensor. */
    BackendCall gemm(boolean transA, boolean transB, int m, int n, int k, Tensor a, long aOffset, int lda, Tensor b, long bOffset,
                     int ldb, Tensor c, long cOffset, int ldc) {
        if (!sizes) return this;
        if (m <= 0 || n <= 0 || k <= 0) {
            throw new IllegalArgumentException(op + ": sizes must be positive, got m=" + m + " n=" + n + " k=" + k
                    + " (A " + a.shape() + ", B " + b.shape() + ", C " + c.shape() + ")");
        }
        matrix("A", a, aOffset, transA ? k : m, transA ? m : k, lda);
        matrix("B", b, bOffset, transB ? n : k, transB ? k : n, ldb);
        matrix("C", c, cOffset, m, n, ldc);
        return this;
    }

    /** A row-major rows×cols matrix with leading dimension ld at float offset {@code offset} lies inside t. */
    BackendCall matrix(String name, Tensor t, long offset, int rows, int cols, int ld) {
        // compared as extent > numel − offset: offset + extent could overflow a long and pass
        if (sizes && (ld < Math.max(1, cols) || offset < 0 || offset > t.numel() || (long) (rows - 1) * ld + cols > t.numel() - offset)) {
            throw new IllegalArgumentException(op + ": matrix " + name + " (" + rows + "×" + cols + ", ld " + ld + ", offset "
                    + offset + ") does not fit in tensor " + t.shape());
        }
        return this;
    }

    /**
     * The geometry is sane (positive sizes, a window inside the padded input, int-sized planes and
     * filters) and x, w, y (and the bias) hold exactly its elements: the convolutions hand the
     * tensors to native code with sizes taken from the geometry alone.
     */
    BackendCall conv(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
        if (!sizes) return this;
        boolean ok = g.n() > 0 && g.cIn() > 0 && g.h() > 0 && g.w() > 0 && g.cOut() > 0 && g.kh() > 0 && g.kw() > 0
                && g.strideH() > 0 && g.strideW() > 0 && g.padH() >= 0 && g.padW() >= 0;
        long spanH = (long) g.h() + 2L * g.padH() - g.kh(), spanW = (long) g.w() + 2L * g.padW() - g.kw();
        ok = ok && spanH >= 0 && spanW >= 0 && spanH + g.kh() <= Integer.MAX_VALUE && spanW + g.kw() <= Integer.MAX_VALUE;
        long outH = ok ? spanH / g.strideH() + 1 : 0, outW = ok ? spanW / g.strideW() + 1 : 0;
        ok = ok && outH * outW <= Integer.MAX_VALUE && (long) g.cIn() * g.kh() * g.kw() <= Integer.MAX_VALUE;
        if (!ok) throw new IllegalArgumentException(op + ": invalid geometry " + g);
        holds("input", x, g, g.n(), g.cIn(), g.h(), g.w());
        holds("weight", w, g, g.cOut(), g.cIn(), g.kh(), g.kw());
        holds("output", y, g, g.n(), g.cOut(), outH, outW);
        if (bias != null) holds("bias", bias, g, g.cOut(), 1, 1, 1);
        return this;
    }

    private void holds(String name, Tensor t, Object geometry, long d0, long d1, long d2, long d3) {
        long want;
        try {
            want = Math.multiplyExact(Math.multiplyExact(d0, d1), Math.multiplyExact(d2, d3));
        } catch (ArithmeticException e) {
            want = -1;
        }
        if (t.numel() != want) {
            throw new IllegalArgumentException(op + ": " + name + " " + t.shape() + " does not hold the " + d0 + "×" + d1 + "×"
                    + d2 + "×" + d3 + " elements of geometry " + geometry);
        }
    }

    /** The window inside the padded input, padding smaller than the window (as cuDNN needs), and x and y holding the geometry. */
    BackendCall pool(PoolGeometry g, Tensor x, Tensor y) {
        if (!sizes) return this;
        boolean ok = g.n() > 0 && g.c() > 0 && g.h() > 0 && g.w() > 0 && g.kh() > 0 && g.kw() > 0 && g.strideH() > 0
                && g.strideW() > 0 && g.padH() >= 0 && g.padW() >= 0 && g.padH() < g.kh() && g.padW() < g.kw()
                && (long) g.h() + 2L * g.padH() >= g.kh() && (long) g.w() + 2L * g.padW() >= g.kw();
        if (!ok) throw new IllegalArgumentException(op + ": invalid geometry " + g);
        numel("input", x, (long) g.n() * g.c() * g.h() * g.w());
        return numel("output", y, (long) g.n() * g.c() * g.outH() * g.outW());
    }

    /** Adaptive pooling: x and y are {@code [n, c, ·, ·]} with the same n and c and positive spatial sizes. */
    BackendCall adaptive(Tensor x, Tensor y) {
        if (!sizes) return this;
        rank4("input", x);
        rank4("output", y);
        if (x.dim(0) != y.dim(0) || x.dim(1) != y.dim(1) || y.dim(2) <= 0 || y.dim(3) <= 0 || x.dim(2) <= 0 || x.dim(3) <= 0) {
            throw new IllegalArgumentException(op + ": input " + x.shape() + " and output " + y.shape()
                    + " must share n and c, with positive spatial sizes");
        }
        return this;
    }

    private void rank4(String name, Tensor t) {
        if (t.rank() != 4) throw new IllegalArgumentException(op + ": " + name + " " + t.shape() + " must be [n, c, h, w]");
    }

    /** x is {@code [n, c, ...]} and every per-channel tensor (those present) holds c values. */
    BackendCall batchNorm(Tensor x, Tensor... perChannel) {
        if (!sizes) return this;
        if (x.rank() < 2) throw new IllegalArgumentException(op + ": input " + x.shape() + " must be [n, c, ...]");
        for (Tensor t : perChannel) numel("per-channel tensor", t, x.dim(1));
        return this;
    }

    /** x holds rows×cols values, both positive. */
    BackendCall rowsCols(Tensor x, int rows, int cols) {
        if (!sizes) return this;
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException(op + ": rows=" + rows + " and cols=" + cols + " must be positive");
        }
        return numel("input", x, (long) rows * cols);
    }

    /** One label per row, each a class index in {@code [0, cols)}. */
    BackendCall labels(int[] labels, int rows, int cols) {
        if (!sizes) return this;
        if (labels == null || labels.length < rows) {
            throw new IllegalArgumentException(op + ": " + (labels == null ? "no labels" : labels.length + " labels") + " for " + rows
                    + " rows");
        }
        for (int r = 0; r < rows; r++) {
            if (labels[r] < 0 || labels[r] >= cols) {
                throw new IllegalArgumentException(op + ": label " + labels[r] + " of row " + r + " is not a class index in [0, "
                        + cols + ")");
            }
        }
        return this;
    }

    /** lo and hi hold one bound, or one per channel. */
    BackendCall bounds(float[] lo, float[] hi, int channels) {
        if (sizes && (lo == null || hi == null || lo.length != hi.length || (lo.length != 1 && lo.length != channels))) {
            throw new IllegalArgumentException(op + ": bounds lo " + (lo == null ? "null" : lo.length + " values") + " and hi "
                    + (hi == null ? "null" : hi.length + " values") + " must both hold 1 value or one per channel (" + channels + ")");
        }
        return this;
    }

    /** A Java array of {@code length} that will receive {@code needed} values is long enough. */
    BackendCall fitsArray(String name, int length, long needed) {
        if (sizes && length < needed) {
            throw new IllegalArgumentException(op + ": " + name + " holds " + length + " values, " + needed + " needed");
        }
        return this;
    }

    /** {@code k} in {@code [1, cols]}. */
    BackendCall topK(int k, int cols) {
        if (sizes && (k <= 0 || k > cols)) throw new IllegalArgumentException(op + ": k=" + k + " must be in [1, " + cols + "]");
        return this;
    }
}
