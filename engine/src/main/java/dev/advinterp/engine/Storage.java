package dev.advinterp.engine;

import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * The memory behind one or more tensors (a tensor and its reshaped views share one storage).
 * Reference-counted: the memory goes back to its device when the last tensor using it is
 * closed. A version counts the in-place writes to it ({@link Ops#reluInPlace}), so that the
 * {@link Tape} can refuse a backward whose saved tensor was overwritten after it was recorded.
 * The bytes may be stored channels-last ({@link ChannelsLast}) by a backend kernel that wrote
 * them so; {@link #segment()} then rewrites them into the tensors' row-major order first, so that
 * no reader but a kernel asking for the stored layout ever sees it.
 * The garbage collector never frees it on the normal path; a {@link Cleaner} only reports a
 * storage that became unreachable while still allocated (a leak), and then returns its memory.
 */
public final class Storage {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final Logger LOG = Logger.getLogger(Storage.class.getName());

    private final DeviceMemory memory;
    private final MemorySegment segment;
    private final LeakGuard guard;
    private int refs = 1;
    private int version;
    /** Non-null while the bytes are stored channels-last. */
    private ChannelsLast layout;

    private record LeakGuard(DeviceMemory memory, MemorySegment segment, AtomicBoolean released) implements Runnable {
        @Override
        public void run() {
            if (released.compareAndSet(false, true)) {
                LOG.warning("a tensor storage of " + segment.byteSize() + " bytes on " + memory.device()
                        + " was never closed (not in any scope that was closed); freeing it now");
                memory.free(segment);
            }
        }
    }

    /** {@code bytes} of {@code memory}'s device, recorded under its {@link DeviceMemory#home()}. */
    Storage(DeviceMemory memory, long bytes) {
        this.memory = memory.home();
        this.segment = this.memory.allocate(bytes);
        this.guard = new LeakGuard(this.memory, segment, new AtomicBoolean());
        CLEANER.register(this, guard);
    }

    /** Where the bytes live. */
    public DeviceMemory memory() {
        return memory;
    }

    public long byteSize() {
        return segment.byteSize();
    }

    synchronized boolean isLive() {
        return refs > 0;
    }

    /** The segment with its bytes in row-major order (rewritten from channels-last first if they were); callers have checked liveness. */
    synchronized MemorySegment segment() {
        if (layout != null) {
            layout.toRowMajor(segment);
            layout = null;
        }
        return segment;
    }

    /** The segment as its bytes are stored: see {@link #layout()}. */
    MemorySegment segmentAsStored() {
        return segment;
    }

    /** How the bytes are stored: null for row-major, else the channels-last layout they are in. */
    synchronized ChannelsLast layout() {
        return layout;
    }

    /** Records how a kernel just stored the bytes (null: row-major). */
    synchronized void storedAs(ChannelsLast layout) {
        this.layout = layout;
    }

    /** How many in-place writes this storage has had. */
    synchronized int version() {
        return version;
    }

    /** Counts one in-place write. */
    synchronized void bumpVersion() {
        version++;
    }

    synchronized void retain() {
        if (refs <= 0) throw new IllegalStateException("storage already freed");
        refs++;
    }

    synchronized void release() {
        if (refs <= 0) return;
        if (--refs == 0 && guard.released().compareAndSet(false, true)) {
            memory.free(segment);
        }
    }
}
