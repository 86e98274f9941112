package dev.advinterp.engine.backend.cuda;

import java.lang.foreign.MemorySegment;

/**
 * What {@link CudaBackend} needs of a device besides cuBLAS and cuDNN: memory, transfers and
 * kernel launches, all queued on one stream in call order. {@link DriverRuntime} implements it
 * over the CUDA driver; the tests also run the backend's kernel paths over an implementation on
 * host memory that executes the kernels' CUDA C on the CPU.
 */
interface DeviceRuntime {

    /** Makes the device current on the calling thread (the backend calls it when the thread changed). */
    void bindThread();

    /** Waits until everything queued so far has finished. */
    void synchronize();

    /** Device memory of {@code bytes}, or 0 when the device has no room (the allocator then empties its cache and retries). */
    long malloc(long bytes);

    void free(long address);

    /** Page-locked host memory, for staging transfers. */
    MemorySegment mallocHost(long bytes);

    void freeHost(MemorySegment host);

    /** Queues a copy of {@code bytes} from host {@code src} to device {@code dst}; src must stay untouched until synchronised. */
    void copyToDevice(long dst, MemorySegment src, long bytes);

    /** Queues a copy from the device to host {@code dst}, valid after {@link #synchronize()}. */
    void copyToHost(MemorySegment dst, long src, long bytes);

    void copyOnDevice(long dst, long src, long bytes);

    /** Sets {@code count} 32-bit words at {@code dst} to {@code bits}. */
    void fill32(long dst, int bits, long count);

    /** Queues kernel {@code kernel} over {@code grid} blocks of {@code block} threads. */
    void launch(String kernel, int grid, int block, KernelArgs args);

    /** The stream, for binding cuBLAS and cuDNN to it. */
    MemorySegment stream();

    /** Words for {@link CudaBackend#describe()}: the device, driver and kernel image. */
    String describe();

    /** Releases the stream, the kernels and the device; the caller has synchronised and freed its memory. */
    void close();
}
