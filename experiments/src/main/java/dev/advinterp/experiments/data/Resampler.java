package dev.advinterp.experiments.data;

/**
 * Separable bilinear resampling with PIL's antialiasing: when shrinking by a factor s > 1 the
 * triangle filter is widened to a support of s input pixels, so every input pixel contributes
 * (an area-weighted average, not a sample of two pixels). These are the weights of PIL's
 * {@code Image.resize(..., BILINEAR)}, which torchvision's {@code Resize} and
 * {@code RandomResizedCrop} call on PIL images; the arithmetic here is float, not PIL's 8-bit
 * fixed point between the passes, so results agree within about one grey level.
 */
final class Resampler {
    private Resampler() {
    }

    /**
     * The weights along one axis: input {@code [inStart, inStart + inSize)} scaled to
     * {@code outSize} outputs, of which outputs {@code [outFrom, outFrom + outCount)} are wanted
     * (a crop of the resized image costs only its own pixels). Input outside the span does not
     * contribute, as when the span is cut out first.
     *
     * @param first   per output, the first input index it reads
     * @param count   per output, how many inputs it reads
     * @param weights per output, {@code taps} weights (the first {@code count} used), summing to 1
     */
    record Axis(int[] first, int[] count, float[] weights, int taps) {

        static Axis of(int inStart, int inSize, int outSize, int outFrom, int outCount) {
            if (inSize <= 0 || outSize <= 0 || outFrom < 0 || outCount <= 0 || outFrom + outCount > outSize) {
                throw new IllegalArgumentException("resampling " + inSize + " pixels to " + outSize + ", outputs " + outFrom + "+" + outCount);
            }
            double scale = (double) inSize / outSize, filterScale = Math.max(scale, 1.0), support = filterScale;
            int taps = (int) Math.ceil(2 * support) + 2;
            int[] first = new int[outCount], count = new int[outCount];
            float[] weights = new float[outCount * taps];
            double[] k = new double[taps];
            for (int o = 0; o < outCount; o++) {
                double center = (outFrom + o + 0.5) * scale;
                // (int) truncates toward zero, as PIL's C does: the bounds match its to the pixel.
                int lo = Math.max((int) (center - support + 0.5), 0), hi = Math.min((int) (center + support + 0.5), inSize);
                double sum = 0;
                for (int i = lo; i < hi; i++) {
                    double x = Math.abs((i - center + 0.5) / filterScale);
                    k[i - lo] = x < 1 ? 1 - x : 0;
                    sum += k[i - lo];
                }
                for (int i = lo; i < hi; i++) weights[o * taps + i - lo] = (float) (sum > 0 ? k[i - lo] / sum : 0);
                first[o] = inStart + lo;
                count[o] = hi - lo;
            }
            return new Axis(first, count, weights, taps);
        }

        /** The same weights with the outputs in reverse order: a horizontal flip for free. */
        Axis reversed() {
            int n = first.length;
            int[] f = new int[n], c = new int[n];
            float[] w = new float[weights.length];
            for (int o = 0; o < n; o++) {
                f[o] = first[n - 1 - o];
                c[o] = count[n - 1 - o];
                System.arraycopy(weights, (n - 1 - o) * taps, w, o * taps, taps);
            }
            return new Axis(f, c, w, taps);
        }

        int size() {
            return first.length;
        }
    }

    /** {@code image} resampled along {@code xs} and {@code ys}: channel-major floats in [0, 1], {@code [3, ys.size, xs.size]}. */
    static float[] resample(RgbImage image, Axis xs, Axis ys) {
        int ow = xs.size(), oh = ys.size(), w = image.width();
        int rowLo = Integer.MAX_VALUE, rowHi = 0;
        for (int o = 0; o < oh; o++) {
            rowLo = Math.min(rowLo, ys.first[o]);
            rowHi = Math.max(rowHi, ys.first[o] + ys.count[o]);
        }
        if (rowLo < 0 || rowHi > image.height()) throw new IllegalArgumentException("rows " + rowLo + "–" + rowHi + " of a " + image.height() + "-row image");
        for (int o = 0; o < ow; o++) {
            if (xs.first[o] < 0 || xs.first[o] + xs.count[o] > w) throw new IllegalArgumentException("columns beyond a " + w + "-column image");
        }
        // Horizontal pass over only the rows the vertical pass reads, kept interleaved: [row][x][c].
        byte[] px = image.pixels();
        float[] tmp = new float[(rowHi - rowLo) * ow * 3];
        for (int y = rowLo; y < rowHi; y++) {
            int src = y * w * 3, dst = (y - rowLo) * ow * 3;
            for (int o = 0; o < ow; o++) {
                int f = xs.first[o], n = xs.count[o], wb = o * xs.taps;
                float r = 0, g = 0, b = 0;
                for (int t = 0, p = src + 3 * f; t < n; t++, p += 3) {
                    float k = xs.weights[wb + t];
                    r += k * (px[p] & 0xff);
                    g += k * (px[p + 1] & 0xff);
                    b += k * (px[p + 2] & 0xff);
                }
                tmp[dst + 3 * o] = r;
                tmp[dst + 3 * o + 1] = g;
                tmp[dst + 3 * o + 2] = b;
            }
        }
        float[] out = new float[3 * oh * ow];
        int plane = oh * ow;
        float[] acc = new float[3 * ow];
        for (int o = 0; o < oh; o++) {
            java.util.Arrays.fill(acc, 0);
            int f = ys.first[o] - rowLo, n = ys.count[o], wb = o * ys.taps;
            for (int t = 0; t < n; t++) {
                float k = ys.weights[wb + t];
                int row = (f + t) * ow * 3;
                for (int i = 0; i < 3 * ow; i++) acc[i] += k * tmp[row + i];
            }
            for (int x = 0; x < ow; x++) {
                for (int c = 0; c < 3; c++) {
                    // Rounding of the weights can leave a value a hair outside [0, 255].
                    float v = acc[3 * x + c] * (1f / 255f);
                    out[c * plane + o * ow + x] = v < 0 ? 0 : Math.min(v, 1f);
                }
            }
        }
        return out;
    }
}
