package dev.advinterp.engine;

import java.lang.foreign.MemorySegment;

/**
 * A storage whose bytes hold an NCHW tensor in NHWC order (channels last), the layout oneDNN's
 * convolutions read and write without a reorder. It never shows outside the backend that wrote
 * it: every tensor keeps the contiguous row-major (NCHW) contract, and the first access that does
 * not ask for the stored layout ({@link Tensor#segment()}, {@code toArray}, a kernel that knows only
 * NCHW) rewrites the bytes into NCHW in place ({@link Storage}). Kernels that read and write NHWC
 * (on the CPU: convolution, max and average pooling, batch norm, ReLU, the elementwise sums, global
 * average pooling) take {@link Tensor#segmentAsStored()} and say what they wrote with
 * {@link Tensor#storeAs}; {@code advinterp.channels.last} chooses where the convolutions start
 * it (off by default).
 *
 * @param n         images
 * @param c         channels
 * @param h         height
 * @param w         width
 * @param converter rewrites such bytes into NCHW in place (the backend that wrote them supplies it)
 */
public record ChannelsLast(int n, int c, int h, int w, Converter converter) {
    /** Where a backend's convolutions leave their outputs channels-last ({@code advinterp.channels.last}). */
    public enum Mode {
        /** Nowhere: every tensor is stored NCHW. */
        OFF,
        /** In the forward passes that no {@link Tape} records (evaluation, the metrics' forwards over datasets). */
        INFERENCE,
        /** Everywhere, training's forward and backward passes too. */
        ON;

        /** The mode a property value names ({@code off}, {@code inference} or {@code on}, any case). */
        public static Mode parse(String word) {
            for (Mode m : values()) {
                if (m.name().equalsIgnoreCase(word.strip())) return m;
            }
            throw new IllegalArgumentException("advinterp.channels.last must be off, inference or on, got '" + word + "'");
        }

        /** Whether a forward convolution run now leaves its output channels-last. */
        public boolean forwardOutput() {
            return this == ON || (this == INFERENCE && Tape.active() == null);
        }

        /** Whether a backward-data convolution leaves its gradient channels-last. */
        public boolean backwardOutput() {
            return this == ON;
        }
    }

    /** Rewrites NHWC bytes of a layout into NCHW in place. */
    @FunctionalInterface
    public interface Converter {
        void toRowMajor(ChannelsLast layout, MemorySegment data);
    }

    /** Whether a tensor of this shape (rank 4, the same n, c, h, w) may be read in this layout. */
    public boolean fits(Shape shape) {
        return shape.rank() == 4 && shape.dim(0) == n && shape.dim(1) == c && shape.dim(2) == h && shape.dim(3) == w;
    }

    /** The layout of {@code t}'s storage if it is channels-last and fits {@code t}'s shape, else null. */
    public static ChannelsLast of(Tensor t) {
        ChannelsLast l = t.storedLayout();
        return l != null && l.fits(t.shape()) ? l : null;
    }

    void toRowMajor(MemorySegment data) {
        converter.toRowMajor(this, data);
    }

    @Override
    public String toString() {
        return "NHWC " + n + "×" + h + "×" + w + "×" + c;
    }
}
