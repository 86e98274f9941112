package dev.advinterp.engine.backend.cuda;

import dev.advinterp.engine.Device;
import dev.advinterp.engine.backend.Backend;
import dev.advinterp.engine.backend.Diagnostics;
import dev.advinterp.engine.backend.GemmKernels;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Optional;

import static dev.advinterp.engine.backend.cuda.CudaDevice.ptr;

/**
 * The CUDA backend: one GPU ({@link CudaDevice}: its context, stream, library handles, caching
 * allocator and buffers) and its families of kernels, one file each as on the CPU: GEMM through
 * cuBLAS, {@link CudaConvolution}, {@link CudaPooling} and {@link CudaBatchNorm} through cuDNN and
 * the project's kernels, {@link CudaElementwise}, {@link CudaReductions} and {@link CudaFused}
 * through the project's kernels. {@link Backend} checks every call's arguments before they reach
 * a family.
 *
 * <p>Tensor storage is {@code MemorySegment.ofAddress(devicePointer).reinterpret(bytes)}: a
 * segment whose address is the device pointer. Java code never dereferences it.
 */
public final class CudaBackend extends Backend implements AutoCloseable {
    private static volatile Optional<String> cachedReason;

    private final CudaDevice device;
    private final CudaConvolution convolution;
    private final CudaPooling pooling;
    private final CudaBatchNorm batchNorm;

    private CudaBackend(CudaDevice device) {
        this(device, new CudaConvolution(device), new CudaPooling(device), new CudaBatchNorm(device));
    }

    private CudaBackend(CudaDevice device, CudaConvolution convolution, CudaPooling pooling, CudaBatchNorm batchNorm) {
        super(new Families(gemmFamily(device), convolution, pooling, batchNorm, new CudaElementwise(device), new CudaReductions(device),
                new CudaFused(device)));
        this.device = device;
        this.convolution = convolution;
        this.pooling = pooling;
        this.batchNorm = batchNorm;
    }

    /** cuBLAS's SGEMM on the row-major operands, swapped for its column-major convention (see {@link Cublas}). */
    private static GemmKernels gemmFamily(CudaDevice device) {
        return (transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc) -> device.blas("gemm")
                .sgemmRowMajor(transA, transB, m, n, k, alpha, ptr(a), aOffset, lda, ptr(b), bOffset, ldb, beta, ptr(c), cOffset, ldc);
    }

    // ------------------------------------------------------------------ opening

    /** Opens GPU {@code ordinal} (primary context, one stream, cuBLAS and cuDNN handles, kernels loaded). */
    public static CudaBackend open(int ordinal) throws CudaUnavailableException {
        if (ordinal < 0) throw new IllegalArgumentException("GPU ordinal " + ordinal + " is negative");
        List<CudaLibraries.Found> libs = CudaLibraries.discover();
        try {
            return new CudaBackend(CudaDevice.open(ordinal, libs));
        } catch (CudaUnavailableException e) {
            throw e;
        } catch (CudaException e) {
            throw new CudaUnavailableException("CUDA could not be initialised on GPU " + ordinal + ": " + e.getMessage(), e);
        } catch (RuntimeException | LinkageError e) {
            throw new CudaUnavailableException("CUDA could not be initialised on GPU " + ordinal + ": " + e, e);
        }
    }

    /**
     * A backend over {@code rt} with the given library bindings, either of which may be null: then
     * GEMM (without cuBLAS), or convolution, pooling and batch normalisation (without cuDNN) throw
     * {@link IllegalStateException}. For running this class over a runtime that is not a GPU.
     */
    static CudaBackend over(DeviceRuntime rt, Cublas cublas, Cudnn cudnn) {
        return new CudaBackend(new CudaDevice(0, rt, cublas, cudnn));
    }

    /** {@link #over} without cuBLAS and cuDNN. */
    static CudaBackend withoutLibraries(DeviceRuntime rt) {
        return over(rt, null, null);
    }

    /** Why CUDA cannot be used here, or empty when {@code open(0)} would work; never throws. Cached. */
    public static Optional<String> unavailableReason() {
        Optional<String> r = cachedReason;
        if (r == null) {
            synchronized (CudaBackend.class) {
                r = cachedReason;
                if (r == null) cachedReason = r = probe();
            }
        }
        return r;
    }

    private static Optional<String> probe() {
        try {
            List<CudaLibraries.Found> libs = CudaLibraries.discover();
            CudaLibraries.Found driver = CudaLibraries.entry(libs, CudaLibraries.DRIVER);
            if (!driver.present()) {
                return Optional.of("no CUDA driver: libcuda.so.1 not found in " + driver.searched().size()
                        + " folders searched " + driver.searched() + " (no NVIDIA GPU driver on this machine)");
            }
            try (CudaBackend b = new CudaBackend(CudaDevice.open(0, libs))) {
                return Optional.empty();
            }
        } catch (Throwable t) {
            return Optional.of(t.getMessage() == null ? t.toString() : t.getMessage());
        }
    }

    /**
     * Whether a CUDA driver and GPUs are visible (each GPU's name and memory), and each CUDA library
     * with the file found or the folders searched; never throws, opens nothing.
     */
    public static Diagnostics machineDiagnostics() {
        CudaProbe.Result cuda = CudaProbe.probe();
        Diagnostics.Builder d = Diagnostics.builder().line("CUDA", cuda.summary());
        for (CudaProbe.Gpu g : cuda.gpus()) d.line("  GPU " + g.ordinal(), g.name() + ", " + (g.totalBytes() >> 20) + " MiB");
        return d.text("CUDA libraries (ADVINTERP_CUDA_PATH, LD_LIBRARY_PATH, the usual folders, Python nvidia/*/lib):\n"
                + CudaLibraries.report()).build();
    }

    // ------------------------------------------------------------------ the device

    @Override
    protected void beginCall(String op) {
        device.enter(op);
    }

    /** Waits until all work queued on the backend's stream is done. */
    @Override
    public void synchronize() {
        device.synchronize();
    }

    public int ordinal() {
        return device.ordinal();
    }

    @Override
    public Device device() {
        return Device.CUDA;
    }

    @Override
    public String describe() {
        return device.describe();
    }

    public CachingAllocator.Stats memoryStats() {
        return device.memoryStats();
    }

    /** Device bytes in use (the caching allocator's rounded blocks, scratch buffers included; the cache not). */
    @Override
    public long memoryInUse() {
        return device.memoryStats().inUseBytes();
    }

    @Override
    public long memoryPeak() {
        return device.memoryStats().peakInUseBytes();
    }

    @Override
    public void resetMemoryPeak() {
        device.resetPeak();
    }

    /** The device buffers kept between calls: cuDNN workspace, reduction partials, per-row and bound buffers. */
    @Override
    public long workspaceBytes() {
        return device.scratchBytes();
    }

    @Override
    public MemorySegment allocate(long bytes) {
        return device.allocate(bytes);
    }

    @Override
    public void free(MemorySegment segment) {
        device.free(segment);
    }

    @Override
    public void writeFloats(float[] src, int srcOffset, MemorySegment dst, long dstByte, int count) {
        device.writeFloats(src, srcOffset, dst, dstByte, count);
    }

    @Override
    public void readFloats(MemorySegment src, long srcByte, float[] dst, int dstOffset, int count) {
        device.readFloats(src, srcByte, dst, dstOffset, count);
    }

    @Override
    public void copyBytes(MemorySegment src, long srcByte, MemorySegment dst, long dstByte, long bytes) {
        device.copyBytes(src, srcByte, dst, dstByte, bytes);
    }

    @Override
    public void fillFloats(MemorySegment dst, long count, float value) {
        device.fillFloats(dst, count, value);
    }

    /**
     * Waits for the stream, then releases everything: the cuDNN descriptors, memory, the library
     * handles, the staging buffer, the stream, the kernels and the context (see {@link CudaDevice#close}).
     */
    @Override
    public void close() {
        device.close(convolution::destroyPlans, pooling::destroyPlans, batchNorm::destroyPlans);
    }
}
