package dev.advinterp.engine.backend.cuda;

/**
 * The device had no room for an allocation even after the caching allocator gave its whole cache
 * back and tried again. The message names the bytes asked for, in use and cached.
 */
public final class DeviceOutOfMemoryException extends IllegalStateException {
    private final long askedBytes;
    private final long inUseBytes;
    private final long cachedBytes;

    public DeviceOutOfMemoryException(long askedBytes, long roundedBytes, long inUseBytes, long cachedBytes,
                                      long rawAllocatedBytes) {
        super("device out of memory: asked " + askedBytes + " bytes (" + roundedBytes + " after rounding), in use "
                + inUseBytes + " bytes, cached " + cachedBytes + " bytes, held from the device " + rawAllocatedBytes
                + " bytes, after releasing the cache and retrying once; free tensors that are no longer needed"
                + " (close their scopes) or lower the batch size");
        this.askedBytes = askedBytes;
        this.inUseBytes = inUseBytes;
        this.cachedBytes = cachedBytes;
    }

    public long askedBytes() {
        return askedBytes;
    }

    public long inUseBytes() {
        return inUseBytes;
    }

    public long cachedBytes() {
        return cachedBytes;
    }
}
