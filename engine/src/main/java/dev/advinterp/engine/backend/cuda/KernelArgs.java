package dev.advinterp.engine.backend.cuda;

import dev.advinterp.engine.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The argument list of one kernel launch, in parameter order, each with the C type of its slot:
 * {@code int}, {@code float}, {@code double}, {@code long long}/{@code unsigned long long} (LONG)
 * or a device pointer. Reused between launches (cleared by {@link #reset()}); not thread-safe.
 */
final class KernelArgs {
    enum Kind { INT, FLOAT, DOUBLE, LONG, POINTER }

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

    KernelArgs f64(double v) {
        return add(Kind.DOUBLE, Double.doubleToRawLongBits(v));
    }

    KernelArgs i64(long v) {
        return add(Kind.LONG, v);
    }

    /** A device pointer; 0 stands for NULL. */
    KernelArgs ptr(long devicePointer) {
        return add(Kind.POINTER, devicePointer);
    }

    /** The device address of a tensor checked alive and on the device; null stands for NULL. */
    KernelArgs ptr(Tensor t) {
        return ptr(t == null ? 0L : t.segment().address());
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

    /**
     * Lays the arguments out as cuLaunchKernel's {@code kernelParams} expects: argument i's value
     * in the 8-byte slot i of {@code values} (an int or float in the slot's first 4 bytes), and
     * {@code pointers[i]} the address of that slot.
     */
    void writeTo(MemorySegment values, MemorySegment pointers) {
        for (int i = 0; i < count; i++) {
            long slot = 8L * i;
            switch (kinds[i]) {
                case INT -> values.set(JAVA_INT, slot, (int) bits[i]);
                case FLOAT -> values.set(JAVA_FLOAT, slot, Float.intBitsToFloat((int) bits[i]));
                case DOUBLE, LONG, POINTER -> values.set(JAVA_LONG, slot, bits[i]); // a double's raw bits, unchanged
            }
            pointers.setAtIndex(ADDRESS, i, values.asSlice(slot, 8));
        }
    }
}
