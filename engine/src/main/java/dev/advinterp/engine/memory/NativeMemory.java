package dev.advinterp.engine.memory;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Host memory for tensors, straight from the C library (64-byte aligned, so that SIMD loads and
 * OpenBLAS see aligned rows), with current and peak statistics.
 *
 * <p>Host allocations go to {@code posix_memalign}/{@code free}: glibc already caches freed
 * chunks, so a second caching layer would only hide memory from the statistics. The segments
 * handed out have global scope; safety against use after free comes from {@code Storage}, which
 * checks its state before any access through the public API.
 */
public final class NativeMemory {
    public static final long ALIGNMENT = 64;

    private static final MethodHandle POSIX_MEMALIGN;
    private static final MethodHandle FREE;
    private static final AtomicLong CURRENT = new AtomicLong();
    private static final AtomicLong PEAK = new AtomicLong();
    private static final AtomicLong ALLOCATIONS = new AtomicLong();

    static {
        Linker linker = Linker.nativeLinker();
        var libc = linker.defaultLookup();
        POSIX_MEMALIGN = linker.downcallHandle(libc.find("posix_memalign").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
        FREE = linker.downcallHandle(libc.find("free").orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
    }

    private NativeMemory() {
    }

    /** Allocates {@code bytes} (at least 1) of uninitialised, 64-byte aligned host memory. */
    public static MemorySegment allocate(long bytes) {
        if (bytes <= 0) throw new IllegalArgumentException("allocation of " + bytes + " bytes");
        int rc;
        MemorySegment address;
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            rc = (int) POSIX_MEMALIGN.invokeExact(out, ALIGNMENT, bytes);
            address = out.get(ValueLayout.ADDRESS, 0);
        } catch (Throwable t) {
            throw new IllegalStateException("posix_memalign failed", t);
        }
        if (rc != 0 || address.address() == 0) {
            throw new OutOfMemoryError("cannot allocate " + bytes + " bytes of host memory for a tensor (posix_memalign returned " + rc + ")");
        }
        long now = CURRENT.addAndGet(bytes);
        PEAK.accumulateAndGet(now, Math::max);
        ALLOCATIONS.incrementAndGet();
        return address.reinterpret(bytes);
    }

    /** Frees a segment returned by {@link #allocate}. */
    public static void free(MemorySegment segment) {
        try {
            FREE.invokeExact(segment);
        } catch (Throwable t) {
            throw new IllegalStateException("free failed", t);
        }
        CURRENT.addAndGet(-segment.byteSize());
    }

    /** Bytes of tensor memory in use now. */
    public static long currentBytes() {
        return CURRENT.get();
    }

    /** Highest {@link #currentBytes()} since the start or the last {@link #resetPeak()}. */
    public static long peakBytes() {
        return PEAK.get();
    }

    /** Number of allocations made since the start. */
    public static long allocations() {
        return ALLOCATIONS.get();
    }

    /** Starts a new peak measurement from the current use. */
    public static void resetPeak() {
        PEAK.set(CURRENT.get());
    }
}
