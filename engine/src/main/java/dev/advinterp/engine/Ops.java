package dev.advinterp.engine;

import dev.advinterp.engine.backend.Backend;
import dev.advinterp.engine.backend.Backends;
import dev.advinterp.engine.backend.ConvGeometry;
import dev.advinterp.engine.backend.PoolGeometry;

import java.util.Arrays;

/**
 * The differentiable functions. Each op checks its arguments (an exception names the op and the
 * shapes), allocates its output in the current {@link Scope} on its inputs' backend, runs the
 * backend's kernel, and records its backward — written right below the forward — on the active
 * {@link Tape}.
 *
 * <p>Why one long class: it is the engine's whole list of ops, each forward beside its backward
 * (DESIGN.md's rule), read and called as one vocabulary ({@code Ops.conv2d}, {@code Ops.relu}, ...);
 * each op is a short block with no state shared with the others, and the work is in the backends.
 */
public final class Ops {
    private Ops() {
    }

    // ================================================================== checks

    private static void live(String op, Tensor... ts) {
        for (Tensor t : ts) {
            if (t == null) continue;
            if (t.isClosed()) {
                throw new IllegalStateException(op + ": input " + t.shape() + " (made by " + t.origin()
                        + ") was used after it was closed; keep it with Scope.keep(...) if it must outlive its scope");
            }
        }
        Tensor first = null;
        for (Tensor t : ts) {
            if (t == null) continue;
            if (first == null) first = t;
            else if (first.memory() != t.memory()) {
                throw new IllegalArgumentException(op + ": inputs live on different devices (" + first.device() + " and "
                        + t.device() + ")");
            }
        }
    }

    private static void rank(String op, String name, Tensor t, int rank) {
        if (t.rank() != rank) {
            throw new IllegalArgumentException(op + ": " + name + " must have rank " + rank + ", got shape " + t.shape());
        }
    }

    private static void positive(String op, String name, int v, Tensor input) {
        if (v <= 0) throw new IllegalArgumentException(op + ": " + name + " must be positive, got " + v + " (input " + input.shape() + ")");
    }

    private static void sameShape(String op, Tensor a, Tensor b) {
        if (!a.shape().equals(b.shape())) {
            throw new IllegalArgumentException(op + ": shapes differ: " + a.shape() + " and " + b.shape());
        }
    }

    private static Tensor[] grads(int n) {
        return new Tensor[n];
    }

    // ================================================================== matmul / linear

    /** {@code a [m, k] × b [k, n] → [m, n]}. */
    public static Tensor matmul(Tensor a, Tensor b) {
        String op = "matmul";
        live(op, a, b);
        rank(op, "a", a, 2);
        rank(op, "b", b, 2);
        int m = a.dim(0), k = a.dim(1), n = b.dim(1);
        if (b.dim(0) != k) {
            throw new IllegalArgumentException(op + ": inner dimensions differ: " + a.shape() + " × " + b.shape());
        }
        Backend be = Backends.of(a);
        Tensor y = Tensor.empty(be, Shape.of(m, n), op);
        be.gemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, y, 0, n);
        Tape.record(op, y, new Tensor[]{a, b}, (dy, needs) -> {
            Tensor[] g = grads(2);
            if (needs[0]) { // da = dy · bᵀ
                g[0] = Tensor.empty(be, a.shape(), op + ".backward");
                be.gemm(false, true, m, k, n, 1f, dy, 0, n, b, 0, n, 0f, g[0], 0, k);
            }
            if (needs[1]) { // db = aᵀ · dy
                g[1] = Tensor.empty(be, b.shape(), op + ".backward");
                be.gemm(true, false, k, n, m, 1f, a, 0, k, dy, 0, n, 0f, g[1], 0, n);
            }
            return g;
        });
        return y;
    }

    /** PyTorch's linear: {@code x [n, in] · wᵀ (w [out, in]) + bias [out] → [n, out]}; bias may be null. */
    public static Tensor linear(Tensor x, Tensor w, Tensor bias) {
        String op = "linear";
        live(op, x, w, bias);
        rank(op, "input", x, 2);
        rank(op, "weight", w, 2);
        int n = x.dim(0), in = x.dim(1), out = w.dim(0);
        if (w.dim(1) != in) {
            throw new IllegalArgumentException(op + ": input " + x.shape() + " has " + in + " features but weight "
                    + w.shape() + " expects " + w.dim(1));
        }
        if (bias != null && !bias.shape().equals(Shape.of(out))) {
            throw new IllegalArgumentException(op + ": bias " + bias.shape() + " must be [" + out + "] for weight " + w.shape());
        }
        Backend be = Backends.of(x);
        Tensor y = Tensor.empty(be, Shape.of(n, out), op);
        be.gemm(false, true, n, out, in, 1f, x, 0, in, w, 0, in, 0f, y, 0, out);
        if (bias != null) be.addBias(y, bias, n, out, 1);
        Tape.record(op, y, new Tensor[]{x, w, bias}, (dy, needs) -> {
            Tensor[] g = grads(3);
            if (needs[0]) { // dx = dy · w
                g[0] = Tensor.empty(be, x.shape(), op + ".backward");
                be.gemm(false, false, n, in, out, 1f, dy, 0, out, w, 0, in, 0f, g[0], 0, in);
            }
            if (needs[1]) { // dw = dyᵀ · x
                g[1] = Tensor.empty(be, w.shape(), op + ".backward");
                be.gemm(true, false, out, in, n, 1f, dy, 0, out, x, 0, in, 0f, g[1], 0, in);
            }
            if (bias != null && needs[2]) {
                g[2] = Tensor.empty(be, bias.shape(), op + ".backward");
                be.sumBias(dy, n, out, 1, g[2]);
            }
            return g;
        });
        return y;
    }

    // ================================================================== convolution

    /**
     * 2-D convolution, groups = 1: x {@code [n, cIn, h, w]}, weight {@code [cOut, cIn, kh, kw]},
     * bias {@code [cOut]} or null, equal stride and zero padding on both axes.
     */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding) {
        return conv2d(x, weight, bias, stride, stride, padding, padding);
    }

    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int strideH, int strideW, int padH, int padW) {
        String op = "conv2d";
        live(op, x, weight, bias);
        rank(op, "input", x, 4);
        rank(op, "weight", weight, 4);
        positive(op, "stride", strideH, x);
        positive(op, "stride", strideW, x);
        if (padH < 0 || padW < 0) {
            throw new IllegalArgumentException(op + ": padding must be >= 0, got " + padH + "," + padW + " (input " + x.shape() + ")");
        }
        if (weight.dim(1) != x.dim(1)) {
            throw new IllegalArgumentException(op + ": input " + x.shape() + " has " + x.dim(1) + " channels but weight "
                    + weight.shape() + " expects " + weight.dim(1));
        }
        ConvGeometry g = new ConvGeometry(x.dim(0), x.dim(1), x.dim(2), x.dim(3), weight.dim(0), weight.dim(2), weight.dim(3),
                strideH, strideW, padH, padW);
        long paddedH = x.dim(2) + 2L * padH, paddedW = x.dim(3) + 2L * padW;
        if (paddedH < g.kh() || paddedW < g.kw()) {
            throw new IllegalArgumentException(op + ": kernel " + g.kh() + "×" + g.kw() + " is larger than the padded input "
                    + x.shape() + " (padding " + padH + "," + padW + ")");
        }
        // the kernels index one output plane and one im2col column with ints
        if (paddedH > Integer.MAX_VALUE || paddedW > Integer.MAX_VALUE || (long) g.outH() * g.outW() > Integer.MAX_VALUE
                || (long) g.cIn() * g.kh() * g.kw() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": input " + x.shape() + " with weight " + weight.shape() + " and padding "
                    + padH + "," + padW + " gives an output plane or filter larger than 2^31 elements");
        }
        if (bias != null && !bias.shape().equals(Shape.of(g.cOut()))) {
            throw new IllegalArgumentException(op + ": bias " + bias.shape() + " must be [" + g.cOut() + "]");
        }
        Backend be = Backends.of(x);
        Tensor y = Tensor.empty(be, Shape.of(g.n(), g.cOut(), g.outH(), g.outW()), op);
        be.conv2dForward(x, weight, bias, g, y);
        Tape.record(op, y, new Tensor[]{x, weight, bias}, (dy, needs) -> {
            Tensor[] gr = grads(3);
            if (needs[0]) {
                gr[0] = Tensor.empty(be, x.shape(), op + ".backward");
                be.conv2dBackwardData(dy, weight, g, gr[0]);
            }
            if (needs[1] || (bias != null && needs[2])) {
                Tensor dw = Tensor.empty(be, weight.shape(), op + ".backward");
                Tensor db = bias != null && needs[2] ? Tensor.empty(be, bias.shape(), op + ".backward") : null;
                be.conv2dBackwardFilter(x, dy, g, dw, db);
                if (needs[1]) gr[1] = dw; else dw.close();
                gr[2] = db;
            }
            return gr;
        });
        return y;
    }

    // ================================================================== pooling

    /** Max pooling with a square window, floor rounding, padding never selected. */
    public static Tensor maxPool2d(Tensor x, int kernel, int stride, int padding) {
        String op = "maxPool2d";
        PoolGeometry g = poolGeometry(op, x, kernel, stride, padding);
        Backend be = Backends.of(x);
        Tensor y = Tensor.empty(be, Shape.of(g.n(), g.c(), g.outH(), g.outW()), op);
        be.maxPool2dForward(x, g, y);
        Tape.recordReadingOutput(op, y, new Tensor[]{x}, (dy, needs) -> {
            Tensor dx = Tensor.empty(be, x.shape(), op + ".backward");
            be.maxPool2dBackward(x, y, dy, g, dx);
            return new Tensor[]{dx};
        });
        return y;
    }

    /** Average pooling with a square window; padded zeros count in the mean (PyTorch's default). */
    public static Tensor avgPool2d(Tensor x, int kernel, int stride, int padding) {
        String op = "avgPool2d";
        PoolGeometry g = poolGeometry(op, x, kernel, stride, padding);
        Backend be = Backends.of(x);
        Tensor y = Tensor.empty(be, Shape.of(g.n(), g.c(), g.outH(), g.outW()), op);
        be.avgPool2dForward(x, g, y);
        Tape.recordReadingOutput(op, y, new Tensor[]{x}, (dy, needs) -> {
            Tensor dx = Tensor.empty(be, x.shape(), op + ".backward");
            be.avgPool2dBackward(x, y, dy, g, dx);
            return new Tensor[]{dx};
        });
        return y;
    }

    private static PoolGeometry poolGeometry(String op, Tensor x, int kernel, int stride, int padding) {
        live(op, x);
        rank(op, "input", x, 4);
        positive(op, "kernel", kernel, x);
        positive(op, "stride", stride, x);
        if (padding < 0 || 2L * padding > kernel) {
            throw new IllegalArgumentException(op + ": padding " + padding + " must be between 0 and half the kernel " + kernel
                    + " (input " + x.shape() + ")");
        }
        if (x.dim(2) + 2 * padding < kernel || x.dim(3) + 2 * padding < kernel) {
            throw new IllegalArgumentException(op + ": window " + kernel + " is larger than the padded input " + x.shape());
        }
        return new PoolGeometry(x.dim(0), x.dim(1), x.dim(2), x.dim(3), kernel, kernel, stride, stride, padding, padding);
    }

    /** PyTorch's adaptive average pooling to {@code outH × outW}. */
    public static Tensor adaptiveAvgPool2d(Tensor x, int outH, int outW) {
        String op = "adaptiveAvgPool2d";
        live(op, x);
        rank(op, "input", x, 4);
        positive(op, "output height", outH, x);
        positive(op, "output width", outW, x);
        Backend be = Backends.of(x);
        Tensor y = Tensor.empty(be, Shape.of(x.dim(0), x.dim(1), outH, outW), op);
        be.adaptiveAvgPool2dForward(x, y);
        Tape.record(op, y, new Tensor[]{x}, (dy, needs) -> {
            Tensor dx = Tensor.empty(be, x.shape(), op + ".backward");
            be.adaptiveAvgPool2dBackward(dy, dx);
            return new Tensor[]{dx};
        });
        return y;
    }

    // ================================================================== batch normalisation

    /**
     * Batch normalisation over {@code [n, c, h, w]} (or {@code [n, c]}). In training mode the batch
     * statistics normalise and the running statistics are updated in place (PyTorch's momentum
     * convention: {@code running = (1 − momentum)·running + momentum·batch}, unbiased variance);
     * in evaluation mode the running statistics normalise.
     */
    public static Tensor batchNorm(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                   boolean training, float momentum, float eps) {
        String op = "batchNorm";
        live(op, x, gamma, beta, runningMean, runningVar);
        if (x.rank() != 4 && x.rank() != 2) {
            throw new IllegalArgumentException(op + ": input must be [n, c, h, w] or [n, c], got " + x.shape());
        }
        int c = x.dim(1);
        Shape cs = Shape.of(c);
        for (Tensor t : new Tensor[]{gamma, beta, runningMean, runningVar}) {
            if (!t.shape().equals(cs)) {
                throw new IllegalArgumentException(op + ": per-channel tensors must be " + cs + " for input " + x.shape()
                        + ", got " + t.shape());
            }
        }
        if (!(eps > 0)) throw new IllegalArgumentException(op + ": eps must be positive, got " + eps + " (input " + x.shape() + ")");
        if (training && x.numel() / c < 2) {
            throw new IllegalArgumentException(op + ": training mode needs more than one value per channel, input " + x.shape());
        }
        Backend be = Backends.of(x);
        Tensor x4 = x.rank() == 4 ? x : x.view(Shape.of(x.dim(0), c, 1, 1));
        Tensor y4 = Tensor.empty(be, x4.shape(), op);
        Tensor y;
        if (training) {
            Tensor mean = Tensor.empty(be, cs, op);
            Tensor invStd = Tensor.empty(be, cs, op);
            be.batchNormTrainForward(x4, gamma, beta, runningMean, runningVar, momentum, eps, y4, mean, invStd);
            y = x.rank() == 4 ? y4 : y4.view(x.shape());
            Tape.record(op, y, new Tensor[]{x, gamma, beta}, (dy, needs) -> {
                Tensor dx = Tensor.empty(be, x.shape(), op + ".backward"); // x's shape, not the [n, c, 1, 1] view's
                Tensor dg = Tensor.empty(be, cs, op + ".backward");
                Tensor db = Tensor.empty(be, cs, op + ".backward");
                be.batchNormTrainBackward(x4, dy, gamma, mean, invStd, eps, dx, dg, db);
                return keepNeeded(needs, dx, dg, db);
            });
        } else {
            be.batchNormInferenceForward(x4, gamma, beta, runningMean, runningVar, eps, y4);
            y = x.rank() == 4 ? y4 : y4.view(x.shape());
            Tape.record(op, y, new Tensor[]{x, gamma, beta}, (dy, needs) -> {
                Tensor dx = Tensor.empty(be, x.shape(), op + ".backward");
                Tensor dg = needs[1] ? Tensor.empty(be, cs, op + ".backward") : null;
                Tensor db = needs[2] ? Tensor.empty(be, cs, op + ".backward") : null;
                be.batchNormInferenceBackward(x4, dy, gamma, runningMean, runningVar, eps, dx, dg, db);
                return keepNeeded(needs, dx, dg, db);
            });
        }
        return y;
    }

    private static Tensor[] keepNeeded(boolean[] needs, Tensor... gs) {
        for (int i = 0; i < gs.length; i++) {
            if (!needs[i] && gs[i] != null) {
                gs[i].close();
                gs[i] = null;
            }
        }
        return gs;
    }

    /**
     * Per-channel affine map {@code y = scale[c]·x + shift[c]} over dimension 1 of x (input
     * normalisation: scale = 1/std, shift = −mean/std). Differentiable in x only: scale and shift
     * are constants.
     */
    public static Tensor channelAffine(Tensor x, Tensor scale, Tensor shift) {
        String op = "channelAffine";
        live(op, x, scale, shift);
        if (x.rank() < 2) throw new IllegalArgumentException(op + ": input needs a channel dimension, got " + x.shape());
        int c = x.dim(1);
        if (!scale.shape().equals(Shape.of(c)) || !shift.shape().equals(Shape.of(c))) {
            throw new IllegalArgumentException(op + ": scale " + scale.shape() + " and shift " + shift.shape()
                    + " must be [" + c + "] for input " + x.shape());
        }
        int outer = x.dim(0), inner = Math.toIntExact(x.shape().sizeFrom(2));
        Backend be = Backends.of(x);
        Tensor y = Tensor.empty(be, x.shape(), op);
        be.channelAffine(x, scale, shift, outer, c, inner, y);
        Tape.record(op, y, new Tensor[]{x}, (dy, needs) -> {
            Tensor dx = Tensor.empty(be, x.shape(), op + ".backward");
            be.channelAffine(dy, scale, null, outer, c, inner, dx);
            return new Tensor[]{dx};
        });
        return y;
    }

    // ================================================================== activations

    public static Tensor relu(Tensor x) {
        String op = "relu";
        live(op, x);
        Backend be = Backends.of(x);
        Tensor y = Tensor.empty(be, x.shape(), op);
        be.reluForward(x, y);
        recordRelu(op, be, x, y);
        return y;
    }

    /**
     * ReLU written over x's own memory (PyTorch's {@code relu_}, torchvision's {@code inplace=True}):
     * returns a tensor that shares x's storage, and x holds the result too. It saves a whole
     * activation per ReLU in a model where a convolution, a linear layer, batch norm or a residual
     * sum feeds it, none of which reads its output in backward. Where a recorded op still needs x's
     * old values, the later backward refuses with that op's name ({@link Tape}); x itself may not be
     * a tensor the tape computes a gradient for (a watched input or a parameter).
     */
    public static Tensor reluInPlace(Tensor x) {
        String op = "reluInPlace";
        live(op, x);
        Tape tape = Tape.active();
        if (tape != null && tape.tracksLeaf(x)) {
            throw new IllegalArgumentException(op + ": " + x.shape() + " (made by " + x.origin() + ") is "
                    + (x.requiresGrad() ? "a parameter" : "watched by the tape") + "; its gradient needs its values: use Ops.relu");
        }
        Backend be = Backends.of(x);
        be.reluForward(x, x);
        x.storage().bumpVersion();
        Tensor y = x.view(x.shape(), op);
        recordRelu(op, be, x, y);
        return y;
    }

    private static void recordRelu(String op, Backend be, Tensor x, Tensor y) {
        Tape.recordReadingOutput(op, y, new Tensor[]{x}, (dy, needs) -> {
            Tensor dx = Tensor.empty(be, x.shape(), op + ".backward");
            be.reluBackward(y, dy, dx);
            return new Tensor[]{dx};
        });
    }

    /**
     * Inverted dropout with probability p, its mask a pure function of {@code seed} and the element
     * index (the same seed gives the same mask); the identity when not training or p = 0.
     */
    public static Tensor dropout(Tensor x, float p, long seed, boolean training) {
        String op = "dropout";
        live(op, x);
        if (!(p >= 0f && p < 1f)) throw new IllegalArgumentException(op + ": p must be in [0, 1), got " + p + " (input " + x.shape() + ")");
        if (!training || p == 0f) return identity(x);
        Backend be = Backends.of(x);
        Tensor y = Tensor.empty(be, x.shape(), op);
        be.dropoutForward(x, p, seed, y);
        Tape.record(op, y, new Tensor[]{x}, (dy, needs) -> {
            Tensor dx = Tensor.empty(be, x.shape(), op + ".backward");
            be.dropoutBackward(dy, p, seed, dx);
            return new Tensor[]{dx};
        });
        return y;
    }

    private static Tensor identity(Tensor x) {
        Tensor y = x.view(x.shape());
        Tape.record("identity", y, new Tensor[]{x}, (dy, needs) -> new Tensor[]{dy.copy()});
        return y;
    }

    // ================================================================== elementwise

    /** a + b, same shapes. */
    public static Tensor add(Tensor a, Tensor b) {
        String op = "add";
        live(op, a, b);
        sameShape(op, a, b);
        Backend be = Backends.of(a);
        Tensor y = Tensor.empty(be, a.shape(), op);
        be.axpby(1f, a, 1f, b, y);
        Tape.record(op, y, new Tensor[]{a, b}, (dy, needs) -> new Tensor[]{needs[0] ? dy.copy() : null, needs[1] ? dy.copy() : null});
        return y;
    }

    /** a − b, same shapes. */
    public static Tensor sub(Tensor a, Tensor b) {
        String op = "sub";
        live(op, a, b);
        sameShape(op, a, b);
        Backend be = Backends.of(a);
        Tensor y = Tensor.empty(be, a.shape(), op);
        be.axpby(1f, a, -1f, b, y);
        Tape.record(op, y, new Tensor[]{a, b}, (dy, needs) -> {
            Tensor[] g = grads(2);
            if (needs[0]) g[0] = dy.copy();
            if (needs[1]) {
                g[1] = Tensor.empty(be, b.shape(), op + ".backward");
                be.scale(dy, -1f, g[1]);
            }
            return g;
        });
        return y;
    }

    /** s·x. */
    public static Tensor scale(Tensor x, float s) {
        String op = "scale";
        live(op, x);
        Backend be = Backends.of(x);
        Tensor y = Tensor.empty(be, x.shape(), op);
        be.scale(x, s, y);
        Tape.record(op, y, new Tensor[]{x}, (dy, needs) -> {
            Tensor dx = Tensor.empty(be, x.shape(), op + ".backward");
            be.scale(dy, s, dx);
            return new Tensor[]{dx};
        });
        return y;
    }

    /** Σ x as a one-element tensor. */
    public static Tensor sum(Tensor x) {
        String op = "sum";
        live(op, x);
        Backend be = Backends.of(x);
        Tensor y = Tensor.empty(be, Shape.of(1), op);
        be.fill(y, (float) be.sum(x));
        Tape.record(op, y, new Tensor[]{x}, (dy, needs) -> {
            Tensor dx = Tensor.empty(be, x.shape(), op + ".backward");
            be.fill(dx, dy.item());
            return new Tensor[]{dx};
        });
        return y;
    }

    /**
     * The L2 norm of each row of x viewed as {@code [n, rest]} (each image of a batch), as a
     * tensor {@code [n]}; summed in float64. Its gradient is {@code x/‖x‖} per row, 0 for a row of zeros.
     */
    public static Tensor rowNorms(Tensor x) {
        String op = "rowNorms";
        live(op, x);
        int[] rc = rows(op, x);
        int rows = rc[0], cols = rc[1];
        Backend be = Backends.of(x);
        Tensor y = Tensor.empty(be, Shape.of(rows), op);
        be.rowNorms(x, rows, cols, y);
        Tape.recordReadingOutput(op, y, new Tensor[]{x}, (dy, needs) -> {
            Tensor dx = Tensor.empty(be, x.shape(), op + ".backward");
            be.rowNormsBackward(x, y, dy, rows, cols, dx);
            return new Tensor[]{dx};
        });
        return y;
    }

    // ================================================================== shapes

    /** The same data with another shape (free: the storage is shared). One dimension may be -1. */
    public static Tensor reshape(Tensor x, int... dims) {
        String op = "reshape";
        live(op, x);
        int[] d = dims.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < d.length; i++) {
            if (d[i] == -1) {
                if (infer >= 0) {
                    throw new IllegalArgumentException(op + ": more than one -1 in " + Arrays.toString(dims) + " for " + x.shape());
                }
                infer = i;
            } else if (d[i] <= 0) {
                throw new IllegalArgumentException(op + ": dimension " + d[i] + " in " + Arrays.toString(dims) + " of " + x.shape());
            } else {
                known *= d[i];
            }
        }
        if (infer >= 0) {
            if (x.numel() % known != 0) {
                throw new IllegalArgumentException(op + ": cannot reshape " + x.shape() + " to " + Arrays.toString(dims));
            }
            d[infer] = Math.toIntExact(x.numel() / known);
        }
        Tensor y = x.view(Shape.of(d));
        Shape in = x.shape();
        Tape.record(op, y, new Tensor[]{x}, (dy, needs) -> {
            Tensor dx = Tensor.empty(dy.memory(), in, op + ".backward");
            Backends.of(dy).copy(dy, dx);
            return new Tensor[]{dx};
        });
        return y;
    }

    /** {@code [n, ...] → [n, rest]}. */
    public static Tensor flatten(Tensor x) {
        return reshape(x, x.dim(0), -1);
    }

    // ================================================================== selection (not differentiable)

    /** Index of the maximum of each row of {@code [rows, cols]} (first one on ties). */
    public static int[] argmax(Tensor x) {
        String op = "argmax";
        live(op, x);
        rank(op, "input", x, 2);
        int[] out = new int[x.dim(0)];
        Backends.of(x).argmax(x, x.dim(0), x.dim(1), out);
        return out;
    }

    /** The k largest entries of each row, highest first. */
    public record TopK(int k, int[] indices, float[] values) {
        /** Index of the j-th largest of row r. */
        public int index(int r, int j) {
            return indices[r * k + j];
        }

        public float value(int r, int j) {
            return values[r * k + j];
        }
    }

    public static TopK topk(Tensor x, int k) {
        String op = "topk";
        live(op, x);
        rank(op, "input", x, 2);
        if (k <= 0 || k > x.dim(1)) {
            throw new IllegalArgumentException(op + ": k = " + k + " must be between 1 and the row length of " + x.shape());
        }
        int[] idx = new int[x.dim(0) * k];
        float[] val = new float[x.dim(0) * k];
        Backends.of(x).topk(x, x.dim(0), x.dim(1), k, idx, val);
        return new TopK(k, idx, val);
    }

    // ================================================================== fused losses

    /**
     * Mean softmax cross-entropy of logits {@code [n, classes]} against labels, fused with its
     * gradient. A NaN or infinite loss (from NaN or overflowing logits) is an
     * {@link ArithmeticException} naming the op and the shape.
     */
    public static Tensor softmaxCrossEntropy(Tensor logits, int[] labels) {
        String op = "softmaxCrossEntropy";
        live(op, logits);
        rank(op, "logits", logits, 2);
        int n = logits.dim(0), classes = logits.dim(1);
        if (labels.length != n) {
            throw new IllegalArgumentException(op + ": " + labels.length + " labels for logits " + logits.shape());
        }
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException(op + ": label " + labels[i] + " at row " + i + " is outside [0, "
                        + classes + ") for logits " + logits.shape());
            }
        }
        Backend be = Backends.of(logits);
        boolean record = Tape.active() != null && Tape.active().tracks(logits);
        Tensor grad = record ? Tensor.empty(be, logits.shape(), op + ".backward") : null;
        double loss = be.softmaxCrossEntropy(logits, n, classes, labels.clone(), grad, 1f, null);
        if (!Float.isFinite((float) loss)) { // finite in float64 is not enough: the loss is stored as float32
            if (grad != null) grad.close();
            throw new ArithmeticException(op + ": the loss is " + loss + " for logits " + logits.shape()
                    + "; the logits hold NaN or infinite values, or values so far apart that the loss overflows float32"
                    + " (check the learning rate and the inputs)");
        }
        Tensor y = Tensor.empty(be, Shape.of(1), op);
        be.fill(y, (float) loss);
        if (record) {
            Tape.record(op, y, new Tensor[]{logits}, (dy, needs) -> {
                float s = dy.item();
                Tensor g = Tensor.empty(be, logits.shape(), op + ".backward");
                be.scale(grad, s, g);
                return new Tensor[]{g};
            });
        }
        return y;
    }

    /**
     * Feature matching {@code mean((a − b)²)} over all elements of two same-shaped feature tensors,
     * with both gradients computed in the same pass.
     */
    public static Tensor featureMatching(Tensor a, Tensor b) {
        String op = "featureMatching";
        live(op, a, b);
        sameShape(op, a, b);
        Backend be = Backends.of(a);
        Tape tape = Tape.active();
        boolean ra = tape != null && tape.tracks(a), rb = tape != null && tape.tracks(b);
        Tensor ga = ra ? Tensor.empty(be, a.shape(), op + ".backward") : null;
        Tensor gb = rb ? Tensor.empty(be, b.shape(), op + ".backward") : null;
        double loss = be.featureMatching(a, b, ga, gb);
        if (!Float.isFinite((float) loss)) { // finite in float64 is not enough: the loss is stored as float32
            if (ga != null) ga.close();
            if (gb != null) gb.close();
            throw new ArithmeticException(op + ": the loss is " + loss + " for features " + a.shape()
                    + "; the features hold NaN or infinite values, or differences so large that the loss overflows float32");
        }
        Tensor y = Tensor.empty(be, Shape.of(1), op);
        be.fill(y, (float) loss);
        Tape.record(op, y, new Tensor[]{a, b}, (dy, needs) -> {
            float s = dy.item();
            Tensor[] g = grads(2);
            if (needs[0]) {
                g[0] = Tensor.empty(be, a.shape(), op + ".backward");
                be.scale(ga, s, g[0]);
            }
            if (needs[1]) {
                g[1] = Tensor.empty(be, b.shape(), op + ".backward");
                be.scale(gb, s, g[1]);
            }
            return g;
        });
        return y;
    }

    // ================================================================== fused updates (in place, not recorded)

    /** The arguments of an attack's step: x, its gradient and the clean x0 alike, ε ≥ 0, α finite. */
    private static void stepArguments(String op, Tensor x, Tensor grad, Tensor x0, float alpha, float eps) {
        live(op, x, grad, x0);
        sameShape(op, x, grad);
        sameShape(op, x, x0);
        if (!(eps >= 0) || !Float.isFinite(alpha)) {
            throw new IllegalArgumentException(op + ": eps must be >= 0 and alpha finite, got eps=" + eps + ", alpha=" + alpha
                    + " (input " + x.shape() + ")");
        }
    }

    /**
     * One FGSM step in place on {@code x} (DESIGN.md):
     * {@code x ← clip(x + alpha·sign(grad), max(x0 − eps, lo[c]), min(x0 + eps, hi[c]))}, sign(0) = 0.
     * {@code lo}/{@code hi} give one bound per channel (dimension 1 of x) or one for all.
     */
    public static void fgsmStep(Tensor x, Tensor grad, Tensor x0, float alpha, float eps, float[] lo, float[] hi) {
        String op = "fgsmStep";
        stepArguments(op, x, grad, x0, alpha, eps);
        int c = x.rank() >= 2 ? x.dim(1) : 1;
        if (lo.length != hi.length || (lo.length != 1 && lo.length != c)) {
            throw new IllegalArgumentException(op + ": bounds need 1 or " + c + " values (channels of " + x.shape()
                    + "), got lo " + lo.length + " and hi " + hi.length);
        }
        for (int i = 0; i < lo.length; i++) {
            if (!(lo[i] <= hi[i])) {
                throw new IllegalArgumentException(op + ": lo[" + i + "] = " + lo[i] + " is not <= hi[" + i + "] = " + hi[i]
                        + " (input " + x.shape() + ")");
            }
        }
        Backends.of(x).fgsmStep(x, grad, x0, alpha, eps, lo.clone(), hi.clone());
    }

    /** x viewed as {@code [n, rest]}: n and the length of a row, or an exception naming the op. */
    private static int[] rows(String op, Tensor x) {
        int rows = x.dim(0);
        long cols = x.numel() / rows;
        if (cols > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": rows of " + cols + " elements in " + x.shape() + " are longer than 2^31 - 1");
        }
        return new int[]{rows, (int) cols};
    }

    private static void box(String op, Tensor x, float lo, float hi) {
        if (!(lo <= hi)) throw new IllegalArgumentException(op + ": the box [" + lo + ", " + hi + "] is empty (input " + x.shape() + ")");
    }

    /**
     * One step of PGD in the L2 norm, in place on each image (row of x viewed as {@code [n, rest]}):
     * {@code x ← x + alpha·grad/‖grad‖}, then the projection onto the L2 ball of radius eps around
     * x0 and the clip to [lo, hi]. The L2 counterpart of {@link #fgsmStep}; not recorded.
     */
    public static void l2Step(Tensor x, Tensor grad, Tensor x0, float alpha, float eps, float lo, float hi) {
        String op = "l2Step";
        stepArguments(op, x, grad, x0, alpha, eps);
        box(op, x, lo, hi);
        int[] rc = rows(op, x);
        Backends.of(x).l2Step(x, grad, x0, rc[0], rc[1], alpha, eps, lo, hi);
    }

    /**
     * One Adam step (β1, β2, ε as in Adam; {@code step} counts from 1) in place on each image (row of
     * x viewed as {@code [n, rest]}) for the objective {@code ‖x − x0‖₂ + weights[i]·f(x)} given
     * {@code grad = ∇f}, then the clip to [lo, hi]: the targeted L2 attack's step (the paper's
     * Eq. 4). m and v hold Adam's moments, zero before the first step. Not recorded.
     */
    public static void l2AdamStep(Tensor x, Tensor grad, Tensor x0, Tensor m, Tensor v, double[] weights, int step, float lr,
                                  double beta1, double beta2, double epsilon, float lo, float hi) {
        String op = "l2AdamStep";
        live(op, x, grad, x0, m, v);
        for (Tensor t : new Tensor[]{grad, x0, m, v}) sameShape(op, x, t);
        int[] rc = rows(op, x);
        if (weights.length != rc[0]) {
            throw new IllegalArgumentException(op + ": " + weights.length + " weights for the " + rc[0] + " rows of " + x.shape());
        }
        if (step < 1 || !(lr >= 0) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(epsilon > 0)) {
            throw new IllegalArgumentException(op + ": needs step >= 1, lr >= 0, betas in [0, 1) and epsilon > 0; got step=" + step
                    + ", lr=" + lr + ", betas " + beta1 + ", " + beta2 + ", epsilon " + epsilon + " (input " + x.shape() + ")");
        }
        box(op, x, lo, hi);
        Backends.of(x).l2AdamStep(x, grad, x0, m, v, rc[0], rc[1], weights.clone(), lr, beta1, beta2, epsilon, step, lo, hi);
    }

    /** SGD with momentum, weight decay and optional Nesterov, in place (PyTorch's definition). */
    public static void sgdStep(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum,
                               float weightDecay, boolean nesterov) {
        String op = "sgdStep";
        live(op, param, grad, momentumBuffer);
        sameShape(op, param, grad);
        if (momentum != 0f) {
            if (momentumBuffer == null) {
                throw new IllegalArgumentException(op + ": momentum " + momentum + " needs a buffer for parameter " + param.shape());
            }
            sameShape(op, param, momentumBuffer);
        }
        if (!(lr >= 0) || !(momentum >= 0) || !(weightDecay >= 0)) {
            throw new IllegalArgumentException(op + ": lr, momentum and weight decay must be >= 0, got " + lr + ", "
                    + momentum + ", " + weightDecay + " (parameter " + param.shape() + ")");
        }
        if (nesterov && momentum == 0f) {
            throw new IllegalArgumentException(op + ": Nesterov needs a momentum > 0 (parameter " + param.shape() + ")");
        }
        Backends.of(param).sgdUpdate(param, grad, momentumBuffer, lr, momentum, 0f, weightDecay, nesterov);
    }
}
