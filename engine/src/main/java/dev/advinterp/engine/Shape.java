package dev.advinterp.engine;

import java.util.Arrays;

/**
 * The immutable shape of a tensor: its dimensions, outermost first (NCHW for images).
 * Every dimension is at least 1; a scalar is the shape {@code [1]}.
 */
public final class Shape {
    private final int[] dims;
    private final long numel;

    private Shape(int[] dims) {
        if (dims.length == 0) {
            throw new IllegalArgumentException("a shape needs at least one dimension; use [1] for a scalar");
        }
        long n = 1;
        for (int d : dims) {
            if (d <= 0) {
                throw new IllegalArgumentException("shape " + Arrays.toString(dims) + " has a non-positive dimension");
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("shape " + Arrays.toString(dims) + " has more than " + Long.MAX_VALUE + " elements");
            }
        }
        this.dims = dims;
        this.numel = n;
    }

    public static Shape of(int... dims) {
        return new Shape(dims.clone());
    }

    public int rank() {
        return dims.length;
    }

    public int dim(int i) {
        if (i < 0) i += dims.length;
        if (i < 0 || i >= dims.length) {
            throw new IndexOutOfBoundsException("dimension " + i + " of shape " + this);
        }
        return dims[i];
    }

    public int[] dims() {
        return dims.clone();
    }

    /** Number of elements. */
    public long numel() {
        return numel;
    }

    /** Product of the dimensions from {@code from} (inclusive) to the end. */
    public long sizeFrom(int from) {
        long n = 1;
        for (int i = from; i < dims.length; i++) n *= dims[i];
        return n;
    }

    /** The same shape with dimension {@code i} replaced. */
    public Shape with(int i, int size) {
        int[] d = dims.clone();
        d[i < 0 ? i + d.length : i] = size;
        return new Shape(d);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
