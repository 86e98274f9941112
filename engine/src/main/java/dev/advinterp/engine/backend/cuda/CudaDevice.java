package dev.advinterp.engine.backend.cuda;

import dev.advinterp.engine.Tensor;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One GPU's lifecycle and memory, for the CUDA backend's families: the {@link DeviceRuntime}
 * (context, stream, kernel module), the cuBLAS and cuDNN handles bound to its stream, the caching
 * allocator, the pinned staging buffer for transfers, and the scratch buffers kept between calls.
 *
 * <p>Every call is queued on the one stream, so calls are ordered among themselves and a freed
 * block can be reused at once. Transfers to the host wait for the stream. The device is used from
 * one thread at a time (scratch buffers and caches have no locks); the thread may change between
 * calls, as {@link #enter} makes the context current on whichever thread calls. Only allocate and
 * free may be called concurrently (the storage leak reporter frees from its own thread).
 */
final class CudaDevice {
    /** Largest host staging buffer for transfers; bigger copies go through it in chunks. */
    private static final long STAGING_BYTES = 16L << 20;

    private final int ordinal;
    private final DeviceRuntime rt;
    /** Null only in a device opened over a runtime without the libraries (the kernel-path tests). */
    private final Cublas cublas;
    private final Cudnn cudnn;
    private final KernelLauncher kernels;
    private final CachingAllocator allocator;
    private final String description;
    private final Map<String, Scratch> scratch = new LinkedHashMap<>();

    private volatile Thread currentThread;
    private MemorySegment staging;
    private volatile boolean closed;

    CudaDevice(int ordinal, DeviceRuntime rt, Cublas cublas, Cudnn cudnn) {
        this.ordinal = ordinal;
        this.rt = rt;
        this.cublas = cublas;
        this.cudnn = cudnn;
        this.currentThread = Thread.currentThread();
        this.kernels = new KernelLauncher(rt::launch);
        this.allocator = new CachingAllocator(new RawAllocator() {
            @Override
            public long malloc(long bytes) {
                bindThread();
                return rt.malloc(bytes);
            }

            @Override
            public void release(long address) {
                bindThread();
                rt.free(address);
            }
        });
        this.description = rt.describe() + (cublas == null ? ", without cuBLAS" : ", cuBLAS " + cublas.versionString())
                + (cudnn == null ? ", without cuDNN" : ", cuDNN " + cudnn.versionString());
    }

    /** GPU {@code ordinal} with cuBLAS and cuDNN; everything made is released again when a step fails. */
    static CudaDevice open(int ordinal, List<CudaLibraries.Found> libs) {
        CudaLibraries.Found libcuda = CudaLibraries.require(libs, CudaLibraries.DRIVER, "the NVIDIA driver");
        DriverRuntime rt = new DriverRuntime(new CudaDriver(libcuda.path()), ordinal);
        Cublas blas = null;
        Cudnn dnn = null;
        try {
            Path blasPath = CudaLibraries.loadCublas(libs);
            // a sub-library that fails to pre-load is not fatal: cuDNN reports it if it needs it
            Path dnnPath = CudaLibraries.loadCudnn(libs, new ArrayList<>());
            blas = new Cublas(blasPath, rt.stream());
            dnn = new Cudnn(dnnPath, rt.stream());
            return new CudaDevice(ordinal, rt, blas, dnn);
        } catch (RuntimeException | LinkageError e) {
            // each release is tried even when an earlier one fails: the context above all, or a
            // later open would find the device in use
            Cudnn madeDnn = dnn;
            Cublas madeBlas = blas;
            RuntimeException failure = Releases.runAll(() -> {
                if (madeDnn != null) madeDnn.close();
            }, () -> {
                if (madeBlas != null) madeBlas.close();
            }, rt::close);
            if (failure != null) e.addSuppressed(failure);
            throw e;
        }
    }

    /** A tensor's device address, 0 for null (a kernel's NULL); the tensor was checked alive and on this device. */
    static long ptr(Tensor t) {
        return t == null ? 0L : t.segment().address();
    }

    int ordinal() {
        return ordinal;
    }

    String describe() {
        return description;
    }

    KernelLauncher kernels() {
        return kernels;
    }

    Cublas blas(String op) {
        if (cublas == null) throw new IllegalStateException(op + " needs cuBLAS, and this CUDA backend was opened without it");
        return cublas;
    }

    Cudnn dnn(String op) {
        if (cudnn == null) throw new IllegalStateException(op + " needs cuDNN, and this CUDA backend was opened without it");
        return cudnn;
    }

    // ------------------------------------------------------------------ threads

    /** Makes the context current when the calling thread changed since the last call. */
    private void bindThread() {
        Thread t = Thread.currentThread();
        if (t != currentThread) {
            rt.bindThread();
            currentThread = t;
        }
    }

    /** Refuses a closed device, and binds the context to the calling thread: first in every call. */
    void enter(String op) {
        if (closed) throw new IllegalStateException(op + ": the CUDA backend was closed");
        bindThread();
    }

    /** Waits until all work queued on the stream is done. */
    void synchronize() {
        enter("synchronize");
        rt.synchronize();
    }

    // ------------------------------------------------------------------ memory

    MemorySegment allocate(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("allocate: negative size " + bytes);
        if (closed) throw new IllegalStateException("allocate: the CUDA backend was closed");
        // a zero-byte tensor still gets a distinct address, so that free() can find it
        long address = allocator.allocate(Math.max(bytes, 4));
        return MemorySegment.ofAddress(address).reinterpret(bytes);
    }

    void free(MemorySegment segment) {
        if (closed) return; // everything went back with the allocator
        allocator.free(segment.address());
    }

    /** The scratch buffer named {@code what}, shared by every family that asks for that name; kept until close. */
    Scratch scratch(String what) {
        return scratch.computeIfAbsent(what, w -> new Scratch(allocator, w));
    }

    CachingAllocator.Stats memoryStats() {
        return allocator.stats();
    }

    void resetPeak() {
        allocator.resetPeak();
    }

    /** The allocator's bytes for the scratch buffers. */
    long scratchBytes() {
        long sum = 0;
        for (Scratch s : scratch.values()) sum += s.blockBytes();
        return sum;
    }

    /** The pinned host staging buffer, at least min(bytes, STAGING_BYTES) long. */
    private MemorySegment staging(long bytes) {
        long want = Math.min(Math.max(bytes, 4096), STAGING_BYTES);
        if (staging == null || staging.byteSize() < want) {
            if (staging != null) rt.freeHost(staging);
            staging = null;
            staging = rt.mallocHost(want);
        }
        return staging;
    }

    /** {@code bytes} from host {@code src} at {@code srcOffset} to device address {@code dst}, through the staging buffer. */
    void hostToDevice(MemorySegment src, long srcOffset, long dst, long bytes) {
        MemorySegment buf = staging(bytes);
        for (long done = 0; done < bytes; ) {
            long n = Math.min(buf.byteSize(), bytes - done);
            // the previous chunk's copy must have left the buffer before it is overwritten
            MemorySegment.copy(src, srcOffset + done, buf, 0, n);
            rt.copyToDevice(dst + done, buf, n);
            rt.synchronize();
            done += n;
        }
    }

    /** {@code bytes} from device address {@code src} to host {@code dst} at {@code dstOffset}; waits for the stream. */
    void deviceToHost(long src, MemorySegment dst, long dstOffset, long bytes) {
        MemorySegment buf = staging(bytes);
        for (long done = 0; done < bytes; ) {
            long n = Math.min(buf.byteSize(), bytes - done);
            rt.copyToHost(buf, src + done, n);
            rt.synchronize();
            MemorySegment.copy(buf, 0, dst, dstOffset + done, n);
            done += n;
        }
    }

    void intsToDevice(int[] values, int count, long dst) {
        hostToDevice(MemorySegment.ofArray(values), 0, dst, (long) count * Integer.BYTES);
    }

    /** Reads one double the kernels left in device memory. */
    double readDouble(long address) {
        double[] out = new double[1];
        deviceToHost(address, MemorySegment.ofArray(out), 0, Double.BYTES);
        return out[0];
    }

    void writeFloats(float[] src, int srcOffset, MemorySegment dst, long dstByte, int count) {
        enter("writeFloats");
        hostToDevice(MemorySegment.ofArray(src), (long) srcOffset * Float.BYTES, dst.address() + dstByte, (long) count * Float.BYTES);
    }

    void readFloats(MemorySegment src, long srcByte, float[] dst, int dstOffset, int count) {
        enter("readFloats");
        deviceToHost(src.address() + srcByte, MemorySegment.ofArray(dst), (long) dstOffset * Float.BYTES, (long) count * Float.BYTES);
    }

    void copyBytes(MemorySegment src, long srcByte, MemorySegment dst, long dstByte, long bytes) {
        enter("copyBytes");
        long from = src.address() + srcByte, to = dst.address() + dstByte;
        if (bytes > 0 && from != to) rt.copyOnDevice(to, from, bytes);
    }

    void fillFloats(MemorySegment dst, long count, float value) {
        enter("fillFloats");
        // a 32-bit memset writes the float's exact bits, NaN payloads and -0 included
        if (count > 0) rt.fill32(dst.address(), Float.floatToRawIntBits(value), count);
    }

    // ------------------------------------------------------------------ closing

    boolean isClosed() {
        return closed;
    }

    /**
     * Waits for the stream, runs each of {@code releaseCaches} (the families' cuDNN descriptors), then
     * releases everything: scratch buffers, memory, the library handles, the staging buffer, the
     * stream, the kernels and the context. Each step is tried even when an earlier one failed (a
     * GPU fault reported by the wait, say), so that the context is always given back; the first
     * failure is thrown, the others suppressed in it.
     */
    void close(Runnable... releaseCaches) {
        if (closed) return;
        closed = true;
        List<Runnable> steps = new ArrayList<>(List.of(this::bindThread, rt::synchronize));
        steps.addAll(List.of(releaseCaches));
        steps.addAll(List.of(
                () -> {
                    for (Scratch s : scratch.values()) s.release();
                },
                allocator::close,
                () -> {
                    if (cudnn != null) cudnn.close();
                },
                () -> {
                    if (cublas != null) cublas.close();
                },
                () -> {
                    if (staging != null) rt.freeHost(staging);
                },
                rt::close));
        RuntimeException failure = Releases.runAll(steps.toArray(Runnable[]::new));
        if (failure != null) throw failure;
    }
}
