package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.memory.NativeMemory;

import java.lang.foreign.MemorySegment;

/**
 * A scratch buffer that grows to the largest size asked of it and is then reused, so that kernels
 * such as im2col allocate nothing per call once the shapes have been seen. One per thread that
 * calls into the backend (the calls of one thread never overlap).
 */
final class Workspace {
    private static final ThreadLocal<Workspace[]> SLOTS = ThreadLocal.withInitial(() -> new Workspace[4]);

    private static final java.util.concurrent.atomic.AtomicLong BYTES = new java.util.concurrent.atomic.AtomicLong();

    private MemorySegment segment;

    /** Bytes held by the workspaces of all threads (they are part of {@link NativeMemory}'s count too). */
    static long totalBytes() {
        return BYTES.get();
    }

    /** Slot {@code slot} of this thread's workspaces, holding at least {@code floats} floats. */
    static MemorySegment get(int slot, long floats) {
        Workspace[] slots = SLOTS.get();
        if (slots[slot] == null) slots[slot] = new Workspace();
        return slots[slot].ensure(floats * Float.BYTES);
    }

    private MemorySegment ensure(long bytes) {
        if (segment == null || segment.byteSize() < bytes) {
            if (segment != null) {
                BYTES.addAndGet(-segment.byteSize());
                NativeMemory.free(segment);
            }
            segment = NativeMemory.allocate(Math.max(bytes, 1));
            BYTES.addAndGet(segment.byteSize());
        }
        return segment;
    }
}
