package dev.advinterp.engine.backend.cuda;

/**
 * Where the {@link CachingAllocator} gets its segments: on a GPU the driver's cuMemAlloc_v2 and
 * cuMemFree_v2, in tests a fake that hands out addresses and enforces a capacity.
 */
public interface RawAllocator {

    /** Device address of {@code bytes} fresh bytes, or 0 when out of memory (no exception). */
    long malloc(long bytes);

    /** Gives back an address that {@link #malloc} returned. */
    void release(long address);
}
