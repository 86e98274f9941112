package dev.advinterp.experiments.metrics.dissection;

import java.util.Arrays;

/**
 * A set of pixels of an {@code h×w} mask as bits (row-major), so that intersections and unions
 * of a unit's mask with every label of an image are a few word operations and a popcount each.
 */
public final class BitMask {
    private final long[] words;
    private final int size;

    public BitMask(int size) {
        this.size = size;
        this.words = new long[(size + 63) >>> 6];
    }

    public int size() {
        return size;
    }

    public void set(int pixel) {
        words[pixel >>> 6] |= 1L << pixel;
    }

    public boolean get(int pixel) {
        return (words[pixel >>> 6] & (1L << pixel)) != 0;
    }

    /** Every pixel set. */
    public void fill() {
        Arrays.fill(words, -1L);
        int tail = size & 63;
        if (tail != 0) words[words.length - 1] = (1L << tail) - 1;
    }

    public void clear() {
        Arrays.fill(words, 0L);
    }

    public void or(BitMask other) {
        for (int i = 0; i < words.length; i++) words[i] |= other.words[i];
    }

    public int count() {
        int n = 0;
        for (long w : words) n += Long.bitCount(w);
        return n;
    }

    /** |this ∧ other| */
    public int intersection(BitMask other) {
        int n = 0;
        for (int i = 0; i < words.length; i++) n += Long.bitCount(words[i] & other.words[i]);
        return n;
    }

    public boolean isEmpty() {
        for (long w : words) if (w != 0) return false;
        return true;
    }
}
