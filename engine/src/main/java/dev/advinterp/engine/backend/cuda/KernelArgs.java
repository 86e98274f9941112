package dev.advinterp.engine.backend.cuda;

import java.util.Arrays;

/**
 * The argument list of one kernel launch, in parameter order, each with the C type of its slot:
 * {@code int}, {@code float}, {@code long long}/{@code unsigned long long} (LONG) or a device
 * pointer. Reused between launches (cleared by {@link #reset()}); not thread-safe.
 */
final class KernelArgs {
    enum Kind { INT, FLOAT, LONG, POINTER }

    private final Kind[] kinds = new Kind[CudaDriver.MAX_KERNEL_ARGS];
    private final long[] bits = new long[CudaDriver.MAX_KERNEL_ARGS];
    private int count;

    KernelArgs reset() {
        count = 0;
        Arrays.fill(kinds, null);
        return this;
    }

    private KernelArgs add(Kind k, long v) {
        if (count == kinds.length) throw new IllegalStateException("more than " + kinds.length + " kernel arguments");
        kinds[count] = k;
        bits[count++] = v;
        return this;
    }

    KernelArgs i32(int v) {
        return add(Kind.INT, v);
    }

    KernelArgs f32(float v) {
        return add(Kind.FLOAT, Float.floatToRawIntBits(v));
    }

    KernelArgs i64(long v) {
        return add(Kind.LONG, v);
    }

    /** A device pointer; 0 stands for NULL. */
    KernelArgs ptr(long devicePointer) {
        return add(Kind.POINTER, devicePointer);
    }

    int count() {
        return count;
    }

    Kind kind(int i) {
        return kinds[i];
    }

    long bits(int i) {
        return bits[i];
    }

    /** The kinds in order, for checking a launch against the kernel's declared parameters. */
    Kind[] signature() {
        return Arrays.copyOf(kinds, count);
    }
}
