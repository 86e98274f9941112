package dev.advinterp.engine.backend.cuda;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Device memory for tensors, cached so that the steady state of a training or attack loop makes
 * no driver calls (cuMemAlloc/cuMemFree synchronise the device and cost tens of microseconds).
 *
 * <h2>Policy (after PyTorch's CUDA caching allocator)</h2>
 * <ul>
 * <li><b>Rounding.</b> Every request is rounded up to a multiple of {@value #ROUND} bytes (a request
 *     of 0 bytes gets one such unit, so that every allocation has its own address). 512 keeps every
 *     block aligned for float4 and cuBLAS/cuDNN accesses.</li>
 * <li><b>Two pools.</b> Requests of at most {@value #SMALL_MAX} bytes (1 MiB) are <i>small</i> and are cut
 *     from {@value #SMALL_SEGMENT}-byte (2 MiB) segments; larger ones are <i>large</i> and get a segment of
 *     their size rounded up to a multiple of {@value #LARGE_SEGMENT_ROUND} bytes (2 MiB). A block never
 *     moves between pools, so many small tensors cannot fragment the space large ones need.</li>
 * <li><b>Best fit.</b> A request takes the smallest free cached block of its pool that is big enough,
 *     the lowest address among equal sizes (deterministic), and asks the raw allocator for a new
 *     segment only when no cached block fits.</li>
 * <li><b>Splitting.</b> When the chosen block is bigger than needed it is split and the remainder
 *     stays cached as a free block, if the remainder is at least {@value #ROUND} bytes (small pool) or
 *     more than {@value #SMALL_MAX} bytes (large pool: smaller leftovers are left inside the block,
 *     which keeps large segments from turning into many small holes).</li>
 * <li><b>Free</b> returns the block to its pool's cache, never to the device, and merges it with the free
 *     neighbours that were split from the same segment.</li>
 * <li><b>Out of memory.</b> When the raw allocator returns 0, every fully free segment is released
 *     ({@link #emptyCache()}) and the request is retried once; if that fails too, a
 *     {@link DeviceOutOfMemoryException} names the bytes asked for, in use and cached.</li>
 * <li><b>Statistics</b>: bytes in use (rounded) and their peak, bytes cached (held from the device but not
 *     in use), bytes held from the device, allocation count and how many were served from the cache.</li>
 * </ul>
 * All methods are synchronized: tensors may be freed from another thread than the one that made them.
 */
public final class CachingAllocator implements AutoCloseable {
    static final long ROUND = 512;
    static final long SMALL_MAX = 1L << 20;
    static final long SMALL_SEGMENT = 2L << 20;
    static final long LARGE_SEGMENT_ROUND = 2L << 20;
    /** Requests above this cannot be rounded without overflow; nothing real is that big. */
    private static final long MAX_REQUEST = Long.MAX_VALUE / 2;

    /** Sizes and statistics at one moment; all byte counts are after rounding. */
    public record Stats(long inUseBytes, long peakInUseBytes, long cachedBytes, long rawAllocatedBytes, long allocations,
                        long cacheHits) {
    }

    /** A piece of a segment; the blocks of a segment tile it exactly, linked in address order. */
    private static final class Block {
        final long segment;
        final boolean small;
        long address;
        long size;
        boolean allocated;
        Block prev;
        Block next;

        Block(long segment, boolean small, long address, long size) {
            this.segment = segment;
            this.small = small;
            this.address = address;
            this.size = size;
        }
    }

    private static final Comparator<Block> BY_SIZE_THEN_ADDRESS =
            Comparator.<Block>comparingLong(b -> b.size).thenComparingLong(b -> b.address);

    private final RawAllocator raw;
    private final TreeSet<Block> freeSmall = new TreeSet<>(BY_SIZE_THEN_ADDRESS);
    private final TreeSet<Block> freeLarge = new TreeSet<>(BY_SIZE_THEN_ADDRESS);
    private final Map<Long, Block> allocated = new HashMap<>();
    /** Segment base address → its size, for release and for the invariant check. */
    private final Map<Long, Long> segments = new HashMap<>();
    private long inUse;
    private long peakInUse;
    private long rawAllocated;
    private long allocations;
    private long cacheHits;
    private boolean closed;

    public CachingAllocator(RawAllocator raw) {
        if (raw == null) throw new IllegalArgumentException("CachingAllocator needs a raw allocator, got null");
        this.raw = raw;
    }

    /**
     * Device address of at least {@code bytes} bytes, aligned to {@value #ROUND} bytes relative to its
     * segment's base.
     *
     * @throws DeviceOutOfMemoryException when the device has no room even after the cache was released
     */
    public synchronized long allocate(long bytes) {
        ensureOpen("allocate " + bytes + " bytes");
        if (bytes < 0 || bytes > MAX_REQUEST) {
            throw new IllegalArgumentException("cannot allocate " + bytes + " bytes of device memory: the size must be"
                    + " between 0 and " + MAX_REQUEST);
        }
        long size = blockSize(bytes);
        boolean small = size <= SMALL_MAX;
        TreeSet<Block> pool = small ? freeSmall : freeLarge;
        Block block = bestFit(pool, size);
        if (block != null) {
            cacheHits++;
        } else {
            block = newSegment(bytes, size, small);
        }
        pool.remove(block);
        split(block, size, pool);
        block.allocated = true;
        allocated.put(block.address, block);
        inUse += block.size;
        peakInUse = Math.max(peakInUse, inUse);
        allocations++;
        return block.address;
    }

    /** Returns an allocation to the cache (the device keeps the memory until {@link #emptyCache()}). */
    public synchronized void free(long address) {
        ensureOpen("free address 0x" + Long.toHexString(address));
        Block block = allocated.remove(address);
        if (block == null) {
            throw new IllegalArgumentException("free of device address 0x" + Long.toHexString(address)
                    + ", which is not a live allocation of this allocator (freed twice, or never allocated here)");
        }
        block.allocated = false;
        inUse -= block.size;
        TreeSet<Block> pool = block.small ? freeSmall : freeLarge;
        Block prev = block.prev;
        if (prev != null && !prev.allocated) {
            pool.remove(prev);
            prev.size += block.size;
            unlink(block);
            block = prev;
        }
        Block next = block.next;
        if (next != null && !next.allocated) {
            pool.remove(next);
            pool.remove(block);
            block.size += next.size;
            unlink(next);
        }
        pool.add(block);
    }

    /** Releases every segment with no live allocation to the raw allocator. */
    public synchronized void emptyCache() {
        if (closed) return;
        releaseFreeSegments(freeSmall);
        releaseFreeSegments(freeLarge);
    }

    public synchronized Stats stats() {
        return new Stats(inUse, peakInUse, rawAllocated - inUse, rawAllocated, allocations, cacheHits);
    }

    /** Starts a new peak of bytes in use from the current value. */
    public synchronized void resetPeak() {
        peakInUse = inUse;
    }

    /**
     * Releases every segment to the raw allocator, live allocations included; the allocator cannot be
     * used afterwards. Closing twice does nothing.
     */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        List<Long> bases = new ArrayList<>(segments.keySet());
        bases.sort(Long::compare);
        segments.clear();
        allocated.clear();
        freeSmall.clear();
        freeLarge.clear();
        inUse = 0;
        rawAllocated = 0;
        for (long base : bases) raw.release(base);
    }

    // ------------------------------------------------------------------ internals

    private static Block bestFit(TreeSet<Block> pool, long size) {
        // The probe sorts before every real block of the same size (addresses are positive).
        return pool.ceiling(new Block(0, false, Long.MIN_VALUE, size));
    }

    private Block newSegment(long asked, long size, boolean small) {
        long segmentSize = small ? SMALL_SEGMENT : roundUp(size, LARGE_SEGMENT_ROUND);
        long base = raw.malloc(segmentSize);
        if (base == 0) {
            emptyCache();
            base = raw.malloc(segmentSize);
            if (base == 0) {
                throw new DeviceOutOfMemoryException(asked, size, inUse, rawAllocated - inUse, rawAllocated);
            }
        }
        if (segments.containsKey(base)) {
            throw new IllegalStateException("the raw allocator returned address 0x" + Long.toHexString(base)
                    + " twice without a release in between");
        }
        segments.put(base, segmentSize);
        rawAllocated += segmentSize;
        return new Block(base, small, base, segmentSize);
    }

    /** Cuts {@code block} (already out of its pool) to {@code size}, caching the remainder when worth keeping. */
    private static void split(Block block, long size, TreeSet<Block> pool) {
        long rest = block.size - size;
        boolean worthIt = block.small ? rest >= ROUND : rest > SMALL_MAX;
        if (!worthIt) return;
        Block remainder = new Block(block.segment, block.small, block.address + size, rest);
        remainder.prev = block;
        remainder.next = block.next;
        if (block.next != null) block.next.prev = remainder;
        block.next = remainder;
        block.size = size;
        pool.add(remainder);
    }

    private static void unlink(Block b) {
        if (b.prev != null) b.prev.next = b.next;
        if (b.next != null) b.next.prev = b.prev;
        b.prev = null;
        b.next = null;
    }

    private void releaseFreeSegments(TreeSet<Block> pool) {
        List<Block> whole = new ArrayList<>();
        for (Block b : pool) {
            if (b.prev == null && b.next == null) whole.add(b);
        }
        whole.sort(Comparator.comparingLong(b -> b.address));
        for (Block b : whole) {
            pool.remove(b);
            segments.remove(b.segment);
            rawAllocated -= b.size;
            raw.release(b.segment);
        }
    }

    private void ensureOpen(String what) {
        if (closed) throw new IllegalStateException("cannot " + what + ": the device allocator is closed");
    }

    /** The bytes a request of {@code bytes} takes from the pool (and counts in {@link Stats#inUseBytes()}). */
    static long blockSize(long bytes) {
        return roundUp(Math.max(bytes, 1), ROUND);
    }

    private static long roundUp(long v, long unit) {
        return (v + unit - 1) / unit * unit;
    }

    /**
     * Checks the allocator's bookkeeping and throws IllegalStateException at the first broken rule:
     * each segment is tiled exactly by its blocks in address order, no two neighbouring blocks are
     * both free, the free pools hold exactly the free blocks, and the byte counts add up.
     * For tests; O(number of blocks).
     */
    synchronized void checkInvariants() {
        long used = 0;
        long free = 0;
        int freeBlocks = 0;
        Map<Long, Block> firstOfSegment = new HashMap<>();
        for (Block b : allocated.values()) firstOfSegment.putIfAbsent(b.segment, first(b));
        for (Block b : freeSmall) firstOfSegment.putIfAbsent(b.segment, first(b));
        for (Block b : freeLarge) firstOfSegment.putIfAbsent(b.segment, first(b));
        if (!firstOfSegment.keySet().equals(segments.keySet())) {
            throw new IllegalStateException("segments with blocks " + firstOfSegment.keySet() + " differ from the segments held "
                    + segments.keySet());
        }
        long held = 0;
        for (var e : segments.entrySet()) {
            long base = e.getKey();
            long size = e.getValue();
            held += size;
            long at = base;
            Block b = firstOfSegment.get(base);
            if (b.address != base) throw new IllegalStateException("segment 0x" + Long.toHexString(base) + " does not start with a block");
            for (; b != null; b = b.next) {
                if (b.address != at) throw new IllegalStateException("gap or overlap at 0x" + Long.toHexString(at));
                if (b.size <= 0 || b.size % ROUND != 0) throw new IllegalStateException("block size " + b.size);
                if (b.segment != base) throw new IllegalStateException("block of another segment linked in");
                if (b.allocated) {
                    if (allocated.get(b.address) != b) throw new IllegalStateException("allocated block not in the live map");
                    used += b.size;
                } else {
                    if (!(b.small ? freeSmall : freeLarge).contains(b)) throw new IllegalStateException("free block not in its pool");
                    if (b.next != null && !b.next.allocated) throw new IllegalStateException("two neighbouring free blocks");
                    free += b.size;
                    freeBlocks++;
                }
                at += b.size;
            }
            if (at != base + size) throw new IllegalStateException("segment 0x" + Long.toHexString(base) + " not tiled to its end");
        }
        if (freeBlocks != freeSmall.size() + freeLarge.size()) throw new IllegalStateException("pool holds blocks of no segment");
        if (used != inUse || held != rawAllocated || used + free != held || peakInUse < inUse) {
            throw new IllegalStateException("accounting: in use " + inUse + " vs blocks " + used + ", held " + rawAllocated
                    + " vs segments " + held + ", free " + free + ", peak " + peakInUse);
        }
    }

    private static Block first(Block b) {
        while (b.prev != null) b = b.prev;
        return b;
    }
}
