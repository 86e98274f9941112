package dev.advinterp.engine.backend;

/**
 * The sizes of one 2-D pooling window sweep over {@code [n, c, h, w]}: window {@code kh×kw},
 * stride, zero padding (never selected by max pooling; counted by average pooling, as PyTorch's
 * default {@code count_include_pad=True} does), floor rounding of the output size.
 */
public record PoolGeometry(int n, int c, int h, int w, int kh, int kw, int strideH, int strideW, int padH, int padW) {

    public int outH() {
        return (h + 2 * padH - kh) / strideH + 1;
    }

    public int outW() {
        return (w + 2 * padW - kw) / strideW + 1;
    }
}
