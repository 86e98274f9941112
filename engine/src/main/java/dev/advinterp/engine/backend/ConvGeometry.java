package dev.advinterp.engine.backend;

/**
 * The sizes of one 2-D convolution (groups = 1, no dilation): input {@code [n, cIn, h, w]},
 * filter {@code [cOut, cIn, kh, kw]}, output {@code [n, cOut, outH, outW]} with
 * {@code outH = (h + 2·padH − kh) / strideH + 1}.
 */
public record ConvGeometry(int n, int cIn, int h, int w, int cOut, int kh, int kw,
                           int strideH, int strideW, int padH, int padW) {

    public int outH() {
        return (h + 2 * padH - kh) / strideH + 1;
    }

    public int outW() {
        return (w + 2 * padW - kw) / strideW + 1;
    }

    /** Rows of the im2col matrix: cIn·kh·kw. */
    public int colRows() {
        return cIn * kh * kw;
    }

    /** Multiply-adds times two for the forward pass. */
    public double forwardFlops() {
        return 2.0 * n * cOut * (double) outH() * outW() * colRows();
    }
}
