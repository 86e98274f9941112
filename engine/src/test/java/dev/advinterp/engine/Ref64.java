package dev.advinterp.engine;

import dev.advinterp.engine.backend.DropoutMask;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * The float64 reference of every op: plain loops over row-major arrays, written from the
 * definitions (PyTorch's, where the engine follows PyTorch) and not from the engine's kernels, so
 * that a kernel and its reference share no code and no shortcut.
 */
final class Ref64 {
    private Ref64() {
    }

    // ---------------------------------------------------------------- dense

    /** a [m, k] × b [k, n]. */
    static double[] matmul(double[] a, double[] b, int m, int k, int n) {
        double[] y = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double acc = 0;
                for (int p = 0; p < k; p++) acc += a[i * k + p] * b[p * n + j];
                y[i * n + j] = acc;
            }
        }
        return y;
    }

    /** x [n, in] · wᵀ (w [out, in]) + bias [out]; bias may be null. */
    static double[] linear(double[] x, double[] w, double[] bias, int n, int in, int out) {
        double[] y = new double[n * out];
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < out; o++) {
                double acc = bias == null ? 0 : bias[o];
                for (int p = 0; p < in; p++) acc += x[i * in + p] * w[o * in + p];
                y[i * out + o] = acc;
            }
        }
        return y;
    }

    // ---------------------------------------------------------------- convolution and pooling

    static int outSize(int in, int kernel, int stride, int pad) {
        return (in + 2 * pad - kernel) / stride + 1;
    }

    /** Cross-correlation with zero padding, as torch.nn.functional.conv2d (groups 1, dilation 1). */
    static double[] conv2d(double[] x, double[] wt, double[] bias, int n, int cIn, int h, int w, int cOut, int kh, int kw,
                           int sh, int sw, int ph, int pw) {
        int oh = outSize(h, kh, sh, ph), ow = outSize(w, kw, sw, pw);
        double[] y = new double[n * cOut * oh * ow];
        for (int b = 0; b < n; b++) {
            for (int co = 0; co < cOut; co++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double acc = bias == null ? 0 : bias[co];
                        for (int ci = 0; ci < cIn; ci++) {
                            for (int i = 0; i < kh; i++) {
                                for (int j = 0; j < kw; j++) {
                                    int iy = oy * sh - ph + i, ix = ox * sw - pw + j;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                    acc += wt[((co * cIn + ci) * kh + i) * kw + j] * x[((b * cIn + ci) * h + iy) * w + ix];
                                }
                            }
                        }
                        y[((b * cOut + co) * oh + oy) * ow + ox] = acc;
                    }
                }
            }
        }
        return y;
    }

    /** Max over the window's positions inside the input (padding is never selected). */
    static double[] maxPool2d(double[] x, int n, int c, int h, int w, int k, int s, int p) {
        int oh = outSize(h, k, s, p), ow = outSize(w, k, s, p);
        double[] y = new double[n * c * oh * ow];
        for (int pl = 0; pl < n * c; pl++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    double m = Double.NEGATIVE_INFINITY;
                    for (int i = 0; i < k; i++) {
                        for (int j = 0; j < k; j++) {
                            int iy = oy * s - p + i, ix = ox * s - p + j;
                            if (iy >= 0 && iy < h && ix >= 0 && ix < w) m = Math.max(m, x[(pl * h + iy) * w + ix]);
                        }
                    }
                    y[(pl * oh + oy) * ow + ox] = m;
                }
            }
        }
        return y;
    }

    /** Mean over the k×k window with padded zeros counted (count_include_pad=True). */
    static double[] avgPool2d(double[] x, int n, int c, int h, int w, int k, int s, int p) {
        int oh = outSize(h, k, s, p), ow = outSize(w, k, s, p);
        double[] y = new double[n * c * oh * ow];
        for (int pl = 0; pl < n * c; pl++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    double acc = 0;
                    for (int i = 0; i < k; i++) {
                        for (int j = 0; j < k; j++) {
                            int iy = oy * s - p + i, ix = ox * s - p + j;
                            if (iy >= 0 && iy < h && ix >= 0 && ix < w) acc += x[(pl * h + iy) * w + ix];
                        }
                    }
                    y[(pl * oh + oy) * ow + ox] = acc / (k * k);
                }
            }
        }
        return y;
    }

    /** PyTorch's adaptive average pooling: output i averages rows [floor(i·H/oh), ceil((i+1)·H/oh)). */
    static double[] adaptiveAvgPool2d(double[] x, int n, int c, int h, int w, int oh, int ow) {
        double[] y = new double[n * c * oh * ow];
        for (int pl = 0; pl < n * c; pl++) {
            for (int oy = 0; oy < oh; oy++) {
                int y0 = (int) Math.floor((double) oy * h / oh), y1 = (int) Math.ceil((double) (oy + 1) * h / oh);
                for (int ox = 0; ox < ow; ox++) {
                    int x0 = (int) Math.floor((double) ox * w / ow), x1 = (int) Math.ceil((double) (ox + 1) * w / ow);
                    double acc = 0;
                    for (int iy = y0; iy < y1; iy++) {
                        for (int ix = x0; ix < x1; ix++) acc += x[(pl * h + iy) * w + ix];
                    }
                    y[(pl * oh + oy) * ow + ox] = acc / ((y1 - y0) * (x1 - x0));
                }
            }
        }
        return y;
    }

    // ---------------------------------------------------------------- batch normalisation

    /** Training mode: y, and the batch mean, biased variance and unbiased variance per channel. */
    record BatchNorm(double[] y, double[] mean, double[] var, double[] unbiasedVar) {
    }

    /** x viewed as [n, c, hw]. */
    static BatchNorm batchNormTrain(double[] x, double[] gamma, double[] beta, int n, int c, int hw, double eps) {
        double[] mean = new double[c], var = new double[c], unbiased = new double[c];
        int m = n * hw;
        for (int ch = 0; ch < c; ch++) {
            double s = 0;
            for (int b = 0; b < n; b++) for (int k = 0; k < hw; k++) s += x[(b * c + ch) * hw + k];
            mean[ch] = s / m;
            double q = 0;
            for (int b = 0; b < n; b++) {
                for (int k = 0; k < hw; k++) {
                    double d = x[(b * c + ch) * hw + k] - mean[ch];
                    q += d * d;
                }
            }
            var[ch] = q / m;
            unbiased[ch] = q / (m - 1);
        }
        return new BatchNorm(batchNormEval(x, gamma, beta, mean, var, n, c, hw, eps), mean, var, unbiased);
    }

    static double[] batchNormEval(double[] x, double[] gamma, double[] beta, double[] mean, double[] var, int n, int c,
                                  int hw, double eps) {
        double[] y = new double[x.length];
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int k = 0; k < hw; k++) {
                    int i = (b * c + ch) * hw + k;
                    y[i] = gamma[ch] * (x[i] - mean[ch]) / Math.sqrt(var[ch] + eps) + beta[ch];
                }
            }
        }
        return y;
    }

    // ---------------------------------------------------------------- elementwise

    static double[] relu(double[] x) {
        return Arrays.stream(x).map(v -> v > 0 ? v : 0).toArray();
    }

    /** Inverted dropout with the documented mask {@link DropoutMask#keep}. */
    static double[] dropout(double[] x, double p, long seed) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = DropoutMask.keep(seed, i, (float) p) ? x[i] / (1 - p) : 0;
        return y;
    }

    static double[] axpby(double a, double[] x, double b, double[] y) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = a * x[i] + b * y[i];
        return out;
    }

    /** The L2 norm of each of the {@code rows} rows of x. */
    static double[] rowNorms(double[] x, int rows) {
        int cols = x.length / rows;
        double[] out = new double[rows];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int j = 0; j < cols; j++) s += x[r * cols + j] * x[r * cols + j];
            out[r] = Math.sqrt(s);
        }
        return out;
    }

    static double sum(double[] x) {
        double s = 0;
        for (double v : x) s += v;
        return s;
    }

    // ---------------------------------------------------------------- selection

    static int[] argmax(double[] x, int rows, int cols) {
        int[] out = new int[rows];
        for (int r = 0; r < rows; r++) {
            int best = 0;
            for (int j = 1; j < cols; j++) if (x[r * cols + j] > x[r * cols + best]) best = j;
            out[r] = best;
        }
        return out;
    }

    /** Indices of the k largest of each row: by value descending, then index ascending. */
    static int[] topkIndices(double[] x, int rows, int cols, int k) {
        int[] out = new int[rows * k];
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            int[] order = IntStream.range(0, cols).boxed()
                    .sorted(Comparator.<Integer>comparingDouble(j -> -x[base + j]).thenComparingInt(j -> j))
                    .mapToInt(Integer::intValue).toArray();
            System.arraycopy(order, 0, out, r * k, k);
        }
        return out;
    }

    // ---------------------------------------------------------------- fused

    /** Mean over rows of −log softmax(logits)[label]. */
    static double softmaxCrossEntropy(double[] logits, int rows, int cols, int[] labels) {
        double total = 0;
        for (int r = 0; r < rows; r++) {
            double m = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < cols; j++) m = Math.max(m, logits[r * cols + j]);
            double z = 0;
            for (int j = 0; j < cols; j++) z += Math.exp(logits[r * cols + j] - m);
            total += m + Math.log(z) - logits[r * cols + labels[r]];
        }
        return total / rows;
    }

    /** mean((a − b)²). */
    static double featureMatching(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
        return s / a.length;
    }

    /**
     * DESIGN.md's FGSM step: x ← clip(x + α·sign(g), max(x0 − ε, lo[c]), min(x0 + ε, hi[c])), sign(0) = 0,
     * on x viewed as [outer, channels, inner]; one bound for every channel when lo has length 1.
     */
    static double[] fgsmStep(double[] x, double[] g, double[] x0, double alpha, double eps, double[] lo, double[] hi,
                             int channels, int inner) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            int c = lo.length == 1 ? 0 : (i / inner) % channels;
            double v = x[i] + alpha * Math.signum(g[i]);
            double lower = Math.max(x0[i] - eps, lo[c]), upper = Math.min(x0[i] + eps, hi[c]);
            out[i] = Math.min(Math.max(v, lower), upper);
        }
        return out;
    }

    /**
     * PGD in the L2 norm, per row of {@code rows}: x + α·g/‖g‖, projected onto the ball of radius ε
     * around x0, clipped to [lo, hi]; all in float64.
     */
    static double[] l2Step(double[] x, double[] g, double[] x0, int rows, double alpha, double eps, double lo, double hi) {
        int cols = x.length / rows;
        double[] out = new double[x.length];
        for (int r = 0; r < rows; r++) {
            int b = r * cols;
            double gn = 0, dn = 0;
            for (int j = 0; j < cols; j++) gn += g[b + j] * g[b + j];
            gn = Math.sqrt(gn);
            for (int j = 0; j < cols; j++) {
                out[b + j] = gn > 0 ? x[b + j] + alpha * g[b + j] / gn : x[b + j];
                dn += (out[b + j] - x0[b + j]) * (out[b + j] - x0[b + j]);
            }
            dn = Math.sqrt(dn);
            double f = dn > eps ? eps / dn : 1;
            for (int j = 0; j < cols; j++) out[b + j] = Math.min(hi, Math.max(lo, x0[b + j] + (out[b + j] - x0[b + j]) * f));
        }
        return out;
    }

    /**
     * Adam on ‖x − x0‖₂ + w[r]·f per row given ∇f, then the clip; m and v updated in place; all in
     * float64 (the moments too). Returns the new x.
     */
    static double[] l2AdamStep(double[] x, double[] g, double[] x0, double[] m, double[] v, double[] w, int step, double lr,
                               double b1, double b2, double eps, double lo, double hi) {
        int rows = w.length, cols = x.length / rows;
        double[] out = new double[x.length];
        for (int r = 0; r < rows; r++) {
            int b = r * cols;
            double norm = 0;
            for (int j = 0; j < cols; j++) norm += (x[b + j] - x0[b + j]) * (x[b + j] - x0[b + j]);
            norm = Math.sqrt(norm);
            for (int j = 0; j < cols; j++) {
                int i = b + j;
                double grad = w[r] * g[i] + (norm > 0 ? (x[i] - x0[i]) / norm : 0);
                m[i] = b1 * m[i] + (1 - b1) * grad;
                v[i] = b2 * v[i] + (1 - b2) * grad * grad;
                double mh = m[i] / (1 - Math.pow(b1, step)), vh = v[i] / (1 - Math.pow(b2, step));
                out[i] = Math.min(hi, Math.max(lo, x[i] - lr * mh / (Math.sqrt(vh) + eps)));
            }
        }
        return out;
    }

    /**
     * torch.optim.SGD (dampening 0), in place on p; buf is null before the first step with momentum,
     * when PyTorch initialises it with the gradient itself. Returns the buffer after the step.
     */
    static double[] sgdStep(double[] p, double[] grad, double[] buf, double lr, double momentum, double wd, boolean nesterov) {
        double[] d = new double[p.length];
        for (int i = 0; i < p.length; i++) d[i] = grad[i] + wd * p[i];
        double[] newBuf = null;
        if (momentum != 0) {
            newBuf = new double[p.length];
            for (int i = 0; i < p.length; i++) newBuf[i] = buf == null ? d[i] : momentum * buf[i] + d[i];
            for (int i = 0; i < p.length; i++) d[i] = nesterov ? d[i] + momentum * newBuf[i] : newBuf[i];
        }
        for (int i = 0; i < p.length; i++) p[i] -= lr * d[i];
        return newBuf;
    }
}
