package dev.advinterp.engine.backend.cuda;

/**
 * A device buffer that grows and is kept (cuDNN workspace, reduction partials, per-row results),
 * so that steady-state calls allocate nothing. Growing frees the old block first; with one stream
 * the work still queued on it finishes before any later reuse. Made by {@link CudaDevice#scratch},
 * which counts it in the workspace bytes and releases it at close.
 */
final class Scratch {
    private final CachingAllocator allocator;
    private final String what;
    private long address;
    private long bytes;
    /** Set when {@link #ensure} moved the buffer; a user that caches its contents clears it after refilling. */
    boolean reallocated;

    Scratch(CachingAllocator allocator, String what) {
        this.allocator = allocator;
        this.what = what;
    }

    /** The buffer's address, grown to at least {@code need} bytes. */
    long ensure(long need) {
        if (need <= bytes && address != 0) return address;
        if (address != 0) allocator.free(address);
        address = 0;
        bytes = 0;
        long size = Math.max(need, 256);
        address = allocator.allocate(size);
        bytes = size;
        reallocated = true;
        return address;
    }

    /** The current address (0 before the first {@link #ensure}). */
    long address() {
        return address;
    }

    /** The allocator's bytes for the buffer, 0 when none is held. */
    long blockBytes() {
        return address == 0 ? 0 : CachingAllocator.blockSize(bytes);
    }

    void release() {
        if (address != 0) allocator.free(address);
        address = 0;
        bytes = 0;
    }

    @Override
    public String toString() {
        return what + " (" + bytes + " bytes)";
    }
}
