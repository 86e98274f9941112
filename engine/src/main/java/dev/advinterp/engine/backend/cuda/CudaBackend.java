package dev.advinterp.engine.backend.cuda;

import dev.advinterp.engine.Device;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Shape;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.Backend;
import dev.advinterp.engine.backend.ConvGeometry;
import dev.advinterp.engine.backend.PoolGeometry;
import dev.advinterp.engine.backend.cpu.CpuBackend;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The CUDA backend: one GPU, its primary context, one stream, a cuBLAS and a cuDNN handle bound
 * to that stream, and the project's kernels. GEMM goes through cuBLAS; convolution, max/average
 * pooling and batch normalisation (training forward/backward, inference forward) through cuDNN;
 * everything else through the kernels in {@link CudaKernels}. Device memory comes from a
 * {@link CachingAllocator} over cuMemAlloc_v2/cuMemFree_v2.
 *
 * <p>Every call is queued on the one stream, so calls are ordered among themselves and a
 * freed block can be reused at once. Calls that return values to Java (copyToHost, sum, argmax,
 * topk, the losses) wait for the stream. The backend is used from one thread at a time (it keeps
 * scratch buffers and descriptor caches without locks); the thread may change between calls, as
 * the context is made current on whichever thread calls. Only allocate/free may be called
 * concurrently (the storage leak reporter frees from its own thread).
 *
 * <p>Tensor storage is {@code MemorySegment.ofAddress(devicePointer).reinterpret(bytes)}: a
 * segment whose address is the device pointer. Java code never dereferences it.
 */
public final class CudaBackend implements Backend, AutoCloseable {
    /** Largest host staging buffer for transfers; bigger copies go through it in chunks. */
    private static final long STAGING_BYTES = 16L << 20;
    /** Largest cuDNN workspace an algorithm may ask for before a leaner one is preferred. */
    private static final long WORKSPACE_LIMIT = 1L << 30;

    private static volatile Optional<String> cachedReason;

    private final int ordinal;
    private final DeviceRuntime rt;
    /** Null only in a backend opened over a runtime without the libraries (the kernel-path tests). */
    private final Cublas cublas;
    private final Cudnn cudnn;
    private final CudaKernels kernels;
    private final CachingAllocator allocator;
    private final String description;

    private volatile Thread currentThread;
    private MemorySegment staging;
    private final Scratch workspace = new Scratch("cuDNN workspace");
    private final Scratch poolOutput = new Scratch("max-pool recomputed output");
    private final Scratch partials = new Scratch("reduction partials");
    private final Scratch result = new Scratch("reduction result");
    private final Scratch rowBuffer = new Scratch("per-row values");
    private final Scratch labelBuffer = new Scratch("labels");
    private final Scratch boundsBuffer = new Scratch("FGSM bounds");
    private float[] boundsLo, boundsHi;

    private final Map<ConvGeometry, ConvPlan> convPlans = new HashMap<>();
    private final Map<PoolKey, PoolPlan> poolPlans = new HashMap<>();
    private final Map<BnKey, BnPlan> bnPlans = new HashMap<>();
    /** ε of the training forward that filled each saveInvStd buffer (by device address), for the backward. */
    private final Map<Long, Float> bnEps = new HashMap<>();
    private boolean closed;

    // ------------------------------------------------------------------ opening

    private CudaBackend(int ordinal, DeviceRuntime rt, Cublas cublas, Cudnn cudnn) {
        this.ordinal = ordinal;
        this.rt = rt;
        this.cublas = cublas;
        this.cudnn = cudnn;
        this.currentThread = Thread.currentThread();
        this.kernels = new CudaKernels(rt::launch);
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
    private static CudaBackend open(int ordinal, List<CudaLibraries.Found> libs) {
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
            return new CudaBackend(ordinal, rt, blas, dnn);
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

    /**
     * A backend over {@code rt} with the given library bindings, either of which may be null: then
     * GEMM (without cuBLAS), or convolution, pooling and batch normalisation (without cuDNN) throw
     * {@link IllegalStateException}. For running this class over a runtime that is not a GPU.
     */
    static CudaBackend over(DeviceRuntime rt, Cublas cublas, Cudnn cudnn) {
        return new CudaBackend(0, rt, cublas, cudnn);
    }

    /** {@link #over} without cuBLAS and cuDNN. */
    static CudaBackend withoutLibraries(DeviceRuntime rt) {
        return over(rt, null, null);
    }

    private Cublas blas(String op) {
        if (cublas == null) throw new IllegalStateException(op + " needs cuBLAS, and this CUDA backend was opened without it");
        return cublas;
    }

    private Cudnn dnn(String op) {
        if (cudnn == null) throw new IllegalStateException(op + " needs cuDNN, and this CUDA backend was opened without it");
        return cudnn;
    }

    /** Opens GPU {@code ordinal} (primary context, one stream, cuBLAS and cuDNN handles, kernels loaded). */
    public static CudaBackend open(int ordinal) throws CudaUnavailableException {
        if (ordinal < 0) throw new IllegalArgumentException("GPU ordinal " + ordinal + " is negative");
        List<CudaLibraries.Found> libs = CudaLibraries.discover();
        try {
            return open(ordinal, libs);
        } catch (CudaUnavailableException e) {
            throw e;
        } catch (CudaException e) {
            throw new CudaUnavailableException("CUDA could not be initialised on GPU " + ordinal + ": " + e.getMessage(), e);
        } catch (RuntimeException | LinkageError e) {
            throw new CudaUnavailableException("CUDA could not be initialised on GPU " + ordinal + ": " + e, e);
        }
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
            try (CudaBackend b = open(0, libs)) {
                return Optional.empty();
            }
        } catch (Throwable t) {
            return Optional.of(t.getMessage() == null ? t.toString() : t.getMessage());
        }
    }

    // ------------------------------------------------------------------ housekeeping

    /** Makes the context current when the calling thread changed since the last call. */
    private void bindThread() {
        Thread t = Thread.currentThread();
        if (t != currentThread) {
            rt.bindThread();
            currentThread = t;
        }
    }

    private void enter(String op) {
        if (closed) throw new IllegalStateException(op + ": the CUDA backend was closed");
        bindThread();
    }

    public CachingAllocator.Stats memoryStats() {
        return allocator.stats();
    }

    /** Device bytes in use (the caching allocator's rounded blocks, scratch buffers included; the cache not). */
    @Override
    public long memoryInUse() {
        return allocator.stats().inUseBytes();
    }

    @Override
    public long memoryPeak() {
        return allocator.stats().peakInUseBytes();
    }

    @Override
    public void resetMemoryPeak() {
        allocator.resetPeak();
    }

    /** The device buffers kept between calls: cuDNN workspace, reduction partials, per-row and bound buffers. */
    @Override
    public long workspaceBytes() {
        long sum = 0;
        for (Scratch s : List.of(workspace, poolOutput, partials, result, rowBuffer, labelBuffer, boundsBuffer)) {
            if (s.address != 0) sum += CachingAllocator.blockSize(s.bytes);
        }
        return sum;
    }

    /** Waits until all work queued on the backend's stream is done. */
    public void synchronize() {
        enter("synchronize");
        rt.synchronize();
    }

    public int ordinal() {
        return ordinal;
    }

    @Override
    public Device device() {
        return Device.CUDA;
    }

    @Override
    public String describe() {
        return description;
    }

    /**
     * Waits for the stream, then releases everything: descriptors, memory, the library handles,
     * the staging buffer, the stream, the kernels and the context. Each step is tried even when an
     * earlier one failed (a GPU fault reported by the wait, say), so that the context is always
     * given back; the first failure is thrown, the others suppressed in it.
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        RuntimeException failure = Releases.runAll(
                this::bindThread,
                rt::synchronize,
                () -> {
                    for (ConvPlan p : convPlans.values()) p.destroy(cudnn);
                    for (PoolPlan p : poolPlans.values()) p.destroy(cudnn);
                    for (BnPlan p : bnPlans.values()) p.destroy(cudnn);
                },
                () -> {
                    for (Scratch s : List.of(workspace, poolOutput, partials, result, rowBuffer, labelBuffer, boundsBuffer)) {
                        s.release();
                    }
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
                rt::close);
        convPlans.clear();
        poolPlans.clear();
        bnPlans.clear();
        if (failure != null) throw failure;
    }

    // ------------------------------------------------------------------ memory

    private static long ptr(Tensor t) {
        return t == null ? 0L : t.segment().address();
    }

    @Override
    public MemorySegment allocate(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("allocate: negative size " + bytes);
        if (closed) throw new IllegalStateException("allocate: the CUDA backend was closed");
        // a zero-byte tensor still gets a distinct address, so that free() can find it
        long address = allocator.allocate(Math.max(bytes, 4));
        return MemorySegment.ofAddress(address).reinterpret(bytes);
    }

    @Override
    public void free(MemorySegment segment) {
        if (closed) return; // everything went back with the allocator
        allocator.free(segment.address());
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

    private void hostToDevice(MemorySegment src, long srcOffset, long dst, long bytes) {
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

    private void deviceToHost(long src, MemorySegment dst, long dstOffset, long bytes) {
        MemorySegment buf = staging(bytes);
        for (long done = 0; done < bytes; ) {
            long n = Math.min(buf.byteSize(), bytes - done);
            rt.copyToHost(buf, src + done, n);
            rt.synchronize();
            MemorySegment.copy(buf, 0, dst, dstOffset + done, n);
            done += n;
        }
    }

    @Override
    public void writeFloats(float[] src, int srcOffset, MemorySegment dst, long dstByte, int count) {
        enter("writeFloats");
        hostToDevice(MemorySegment.ofArray(src), (long) srcOffset * Float.BYTES, dst.address() + dstByte, (long) count * Float.BYTES);
    }

    @Override
    public void readFloats(MemorySegment src, long srcByte, float[] dst, int dstOffset, int count) {
        enter("readFloats");
        deviceToHost(src.address() + srcByte, MemorySegment.ofArray(dst), (long) dstOffset * Float.BYTES, (long) count * Float.BYTES);
    }

    @Override
    public void copyBytes(MemorySegment src, long srcByte, MemorySegment dst, long dstByte, long bytes) {
        enter("copyBytes");
        long from = src.address() + srcByte, to = dst.address() + dstByte;
        if (bytes > 0 && from != to) rt.copyOnDevice(to, from, bytes);
    }

    @Override
    public void fillFloats(MemorySegment dst, long count, float value) {
        enter("fillFloats");
        // a 32-bit memset writes the float's exact bits, NaN payloads and -0 included
        if (count > 0) rt.fill32(dst.address(), Float.floatToRawIntBits(value), count);
    }

    @Override
    public void copyFromHost(float[] src, int srcOffset, Tensor dst) {
        enter("copyFromHost");
        CudaChecks.onDevice("copyFromHost", "destination", dst, this, false);
        CudaChecks.hostRange("copyFromHost", src.length, srcOffset, dst.numel());
        hostToDevice(MemorySegment.ofArray(src), (long) srcOffset * Float.BYTES, ptr(dst), dst.numel() * Float.BYTES);
    }

    @Override
    public void copyToHost(Tensor src, float[] dst, int dstOffset) {
        enter("copyToHost");
        CudaChecks.onDevice("copyToHost", "source", src, this, false);
        CudaChecks.hostRange("copyToHost", dst.length, dstOffset, src.numel());
        deviceToHost(ptr(src), MemorySegment.ofArray(dst), (long) dstOffset * Float.BYTES, src.numel() * Float.BYTES);
    }

    private void intsToDevice(int[] values, int count, long dst) {
        hostToDevice(MemorySegment.ofArray(values), 0, dst, (long) count * Integer.BYTES);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        enter("copy");
        CudaChecks.onDevice("copy", "source", src, this, false);
        CudaChecks.onDevice("copy", "destination", dst, this, false);
        CudaChecks.sameNumel("copy", src, "source", dst, "destination");
        if (src.numel() > 0 && ptr(src) != ptr(dst)) {
            rt.copyOnDevice(ptr(dst), ptr(src), src.numel() * Float.BYTES);
        }
    }

    @Override
    public void fill(Tensor t, float value) {
        enter("fill");
        CudaChecks.onDevice("fill", "tensor", t, this, false);
        // a 32-bit memset writes the float's exact bits, NaN payloads and -0 included
        if (t.numel() > 0) rt.fill32(ptr(t), Float.floatToRawIntBits(value), t.numel());
    }

    // ------------------------------------------------------------------ dense algebra

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     Tensor a, long aOffset, int lda, Tensor b, long bOffset, int ldb,
                     float beta, Tensor c, long cOffset, int ldc) {
        enter("gemm");
        CudaChecks.onDevice("gemm", "A", a, this, false);
        CudaChecks.onDevice("gemm", "B", b, this, false);
        CudaChecks.onDevice("gemm", "C", c, this, false);
        CudaChecks.gemmSizes(m, n, k, a, b, c);
        CudaChecks.gemmMatrix("A", a, aOffset, transA ? k : m, transA ? m : k, lda);
        CudaChecks.gemmMatrix("B", b, bOffset, transB ? n : k, transB ? k : n, ldb);
        CudaChecks.gemmMatrix("C", c, cOffset, m, n, ldc);
        blas("gemm").sgemmRowMajor(transA, transB, m, n, k, alpha, ptr(a), aOffset, lda, ptr(b), bOffset, ldb, beta, ptr(c),
                cOffset, ldc);
    }

    @Override
    public void addBias(Tensor y, Tensor bias, int outer, int channels, int inner) {
        enter("addBias");
        CudaChecks.onDevice("addBias", "y", y, this, false);
        CudaChecks.onDevice("addBias", "bias", bias, this, false);
        CudaChecks.planes("addBias", "y", y, outer, channels, inner);
        CudaChecks.numel("addBias", "bias", bias, channels);
        kernels.addBias(ptr(y), ptr(bias), channels, inner, y.numel());
    }

    @Override
    public void channelAffine(Tensor x, Tensor scale, Tensor shift, int outer, int channels, int inner, Tensor y) {
        enter("channelAffine");
        CudaChecks.onDevice("channelAffine", "x", x, this, false);
        CudaChecks.onDevice("channelAffine", "scale", scale, this, false);
        CudaChecks.onDevice("channelAffine", "shift", shift, this, true);
        CudaChecks.onDevice("channelAffine", "y", y, this, false);
        CudaChecks.planes("channelAffine", "x", x, outer, channels, inner);
        CudaChecks.sameNumel("channelAffine", x, "x", y, "y");
        CudaChecks.numel("channelAffine", "scale", scale, channels);
        CudaChecks.numel("channelAffine", "shift", shift, channels);
        kernels.channelAffine(ptr(x), ptr(scale), ptr(shift), ptr(y), channels, inner, x.numel());
    }

    @Override
    public void sumBias(Tensor dy, int outer, int channels, int inner, Tensor dbias) {
        enter("sumBias");
        CudaChecks.onDevice("sumBias", "dy", dy, this, false);
        CudaChecks.onDevice("sumBias", "dbias", dbias, this, false);
        CudaChecks.planes("sumBias", "dy", dy, outer, channels, inner);
        CudaChecks.numel("sumBias", "dbias", dbias, channels);
        kernels.sumBias(ptr(dy), ptr(dbias), outer, channels, inner);
    }

    // ------------------------------------------------------------------ convolution

    /**
     * Descriptors of one convolution geometry and, per direction, the algorithm chosen and its
     * workspace; made on first use and kept until close.
     */
    static final class ConvPlan {
        final MemorySegment x, w, y, conv;
        /** Per {@link Cudnn.Direction} ordinal: the algorithm (-1 until chosen) and its workspace bytes. */
        final int[] algo = {-1, -1, -1};
        final long[] workspace = new long[3];

        ConvPlan(Cudnn dnn, ConvGeometry g) {
            x = dnn.tensor4d(g.n(), g.cIn(), g.h(), g.w());
            w = dnn.filter4d(g.cOut(), g.cIn(), g.kh(), g.kw());
            y = dnn.tensor4d(g.n(), g.cOut(), g.outH(), g.outW());
            conv = dnn.convolution2d(g.padH(), g.padW(), g.strideH(), g.strideW());
        }

        void destroy(Cudnn dnn) {
            dnn.destroyTensor(x);
            dnn.destroyFilter(w);
            dnn.destroyTensor(y);
            dnn.destroyConvolution(conv);
        }
    }


    /**
     * The plan of geometry g with the algorithm of direction dir chosen: cuDNN's heuristic order,
     * keeping the first that reports success within the workspace limit, and for the backward
     * directions the first deterministic one if any qualifies (so that the same inputs give the
     * same gradients). The workspace is grown to the algorithm's need.
     */
    private ConvPlan planFor(ConvGeometry g, Cudnn.Direction dir) {
        ConvPlan p = convPlans.get(g);
        if (p == null) {
            p = new ConvPlan(dnn("convolution"), g);
            convPlans.put(g, p);
        }
        int d = dir.ordinal();
        if (p.algo[d] < 0) {
            Cudnn.AlgoPerf[] ranked = cudnn.rankAlgorithms(dir, p.x, p.w, p.conv, p.y);
            Cudnn.AlgoPerf pick = ConvAlgorithms.choose(ranked, dir != Cudnn.Direction.FORWARD, WORKSPACE_LIMIT);
            if (pick == null) {
                throw new CudaException(Cudnn.LIBRARY, "cudnnGetConvolution" + dir + "Algorithm_v7", -1, "no usable algorithm",
                        "none of " + ranked.length + " algorithms suits geometry " + g + ": " + Arrays.toString(ranked));
            }
            p.workspace[d] = Math.max(pick.memory(), cudnn.workspaceSize(dir, p.x, p.w, p.conv, p.y, pick.algo()));
            p.algo[d] = pick.algo();
        }
        workspace.ensure(p.workspace[d]);
        return p;
    }

    @Override
    public void conv2dForward(Tensor x, Tensor w, Tensor bias, ConvGeometry g, Tensor y) {
        enter("conv2dForward");
        CudaChecks.onDevice("conv2dForward", "input", x, this, false);
        CudaChecks.onDevice("conv2dForward", "weight", w, this, false);
        CudaChecks.onDevice("conv2dForward", "bias", bias, this, true);
        CudaChecks.onDevice("conv2dForward", "output", y, this, false);
        CudaChecks.conv("conv2dForward", g, x, w, bias, y);
        ConvPlan p = planFor(g, Cudnn.Direction.FORWARD);
        int d = Cudnn.Direction.FORWARD.ordinal();
        cudnn.convolutionForward(p.x, ptr(x), p.w, ptr(w), p.conv, p.algo[d], workspace.address, p.workspace[d], p.y, ptr(y));
        if (bias != null) kernels.addBias(ptr(y), ptr(bias), g.cOut(), g.outH() * g.outW(), y.numel());
    }

    @Override
    public void conv2dBackwardData(Tensor dy, Tensor w, ConvGeometry g, Tensor dx) {
        enter("conv2dBackwardData");
        CudaChecks.onDevice("conv2dBackwardData", "dy", dy, this, false);
        CudaChecks.onDevice("conv2dBackwardData", "weight", w, this, false);
        CudaChecks.onDevice("conv2dBackwardData", "dx", dx, this, false);
        CudaChecks.conv("conv2dBackwardData", g, dx, w, null, dy);
        ConvPlan p = planFor(g, Cudnn.Direction.BACKWARD_DATA);
        int d = Cudnn.Direction.BACKWARD_DATA.ordinal();
        cudnn.convolutionBackwardData(p.w, ptr(w), p.y, ptr(dy), p.conv, p.algo[d], workspace.address, p.workspace[d], p.x,
                ptr(dx));
    }

    @Override
    public void conv2dBackwardFilter(Tensor x, Tensor dy, ConvGeometry g, Tensor dw, Tensor dbias) {
        enter("conv2dBackwardFilter");
        CudaChecks.onDevice("conv2dBackwardFilter", "input", x, this, false);
        CudaChecks.onDevice("conv2dBackwardFilter", "dy", dy, this, false);
        CudaChecks.onDevice("conv2dBackwardFilter", "dw", dw, this, false);
        CudaChecks.onDevice("conv2dBackwardFilter", "dbias", dbias, this, true);
        CudaChecks.conv("conv2dBackwardFilter", g, x, dw, dbias, dy);
        ConvPlan p = planFor(g, Cudnn.Direction.BACKWARD_FILTER);
        int d = Cudnn.Direction.BACKWARD_FILTER.ordinal();
        cudnn.convolutionBackwardFilter(p.x, ptr(x), p.y, ptr(dy), p.conv, p.algo[d], workspace.address, p.workspace[d], p.w,
                ptr(dw));
        if (dbias != null) kernels.sumBias(ptr(dy), ptr(dbias), g.n(), g.cOut(), g.outH() * g.outW());
    }

    // ------------------------------------------------------------------ pooling

    private record PoolKey(PoolGeometry g, int mode) {
    }

    static final class PoolPlan {
        final MemorySegment x, y, pool;

        PoolPlan(Cudnn dnn, PoolGeometry g, int mode) {
            x = dnn.tensor4d(g.n(), g.c(), g.h(), g.w());
            y = dnn.tensor4d(g.n(), g.c(), g.outH(), g.outW());
            pool = dnn.pooling2d(mode, g.kh(), g.kw(), g.padH(), g.padW(), g.strideH(), g.strideW());
        }

        void destroy(Cudnn dnn) {
            dnn.destroyTensor(x);
            dnn.destroyTensor(y);
            dnn.destroyPooling(pool);
        }
    }

    private PoolPlan poolPlan(PoolGeometry g, int mode) {
        return poolPlans.computeIfAbsent(new PoolKey(g, mode), k -> new PoolPlan(dnn("pooling"), g, mode));
    }

    @Override
    public void maxPool2dForward(Tensor x, PoolGeometry g, Tensor y) {
        enter("maxPool2dForward");
        CudaChecks.onDevice("maxPool2dForward", "input", x, this, false);
        CudaChecks.onDevice("maxPool2dForward", "output", y, this, false);
        CudaChecks.pool("maxPool2dForward", g, x, y);
        PoolPlan p = poolPlan(g, Cudnn.CUDNN_POOLING_MAX_DETERMINISTIC);
        cudnn.poolingForward(p.pool, p.x, ptr(x), p.y, ptr(y));
    }

    /** cuDNN's backward needs the forward output, which the Backend call does not carry: it is recomputed. */
    @Override
    public void maxPool2dBackward(Tensor x, Tensor dy, PoolGeometry g, Tensor dx) {
        enter("maxPool2dBackward");
        CudaChecks.onDevice("maxPool2dBackward", "input", x, this, false);
        CudaChecks.onDevice("maxPool2dBackward", "dy", dy, this, false);
        CudaChecks.onDevice("maxPool2dBackward", "dx", dx, this, false);
        CudaChecks.pool("maxPool2dBackward", g, x, dy);
        CudaChecks.sameNumel("maxPool2dBackward", x, "input", dx, "dx");
        PoolPlan p = poolPlan(g, Cudnn.CUDNN_POOLING_MAX_DETERMINISTIC);
        long y = poolOutput.ensure(dy.numel() * Float.BYTES);
        cudnn.poolingForward(p.pool, p.x, ptr(x), p.y, y);
        cudnn.poolingBackward(p.pool, p.y, y, ptr(dy), p.x, ptr(x), ptr(dx));
    }

    @Override
    public void avgPool2dForward(Tensor x, PoolGeometry g, Tensor y) {
        enter("avgPool2dForward");
        CudaChecks.onDevice("avgPool2dForward", "input", x, this, false);
        CudaChecks.onDevice("avgPool2dForward", "output", y, this, false);
        CudaChecks.pool("avgPool2dForward", g, x, y);
        PoolPlan p = poolPlan(g, Cudnn.CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING);
        cudnn.poolingForward(p.pool, p.x, ptr(x), p.y, ptr(y));
    }

    /**
     * Average pooling's gradient does not depend on x or y, which the Backend call does not carry;
     * cuDNN's signature still asks for them, so dy stands in for y and dx (overwritten) for x.
     */
    @Override
    public void avgPool2dBackward(Tensor dy, PoolGeometry g, Tensor dx) {
        enter("avgPool2dBackward");
        CudaChecks.onDevice("avgPool2dBackward", "dy", dy, this, false);
        CudaChecks.onDevice("avgPool2dBackward", "dx", dx, this, false);
        CudaChecks.pool("avgPool2dBackward", g, dx, dy);
        PoolPlan p = poolPlan(g, Cudnn.CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING);
        cudnn.poolingBackward(p.pool, p.y, ptr(dy), ptr(dy), p.x, ptr(dx), ptr(dx));
    }

    @Override
    public void adaptiveAvgPool2dForward(Tensor x, Tensor y) {
        enter("adaptiveAvgPool2dForward");
        CudaChecks.onDevice("adaptiveAvgPool2dForward", "input", x, this, false);
        CudaChecks.onDevice("adaptiveAvgPool2dForward", "output", y, this, false);
        adaptiveShapes("adaptiveAvgPool2dForward", x, y);
        kernels.adaptiveAvgPoolForward(ptr(x), ptr(y), x.dim(0) * x.dim(1), x.dim(2), x.dim(3), y.dim(2), y.dim(3));
    }

    @Override
    public void adaptiveAvgPool2dBackward(Tensor dy, Tensor dx) {
        enter("adaptiveAvgPool2dBackward");
        CudaChecks.onDevice("adaptiveAvgPool2dBackward", "dy", dy, this, false);
        CudaChecks.onDevice("adaptiveAvgPool2dBackward", "dx", dx, this, false);
        adaptiveShapes("adaptiveAvgPool2dBackward", dx, dy);
        kernels.adaptiveAvgPoolBackward(ptr(dy), ptr(dx), dx.dim(0) * dx.dim(1), dx.dim(2), dx.dim(3), dy.dim(2), dy.dim(3));
    }

    private static void adaptiveShapes(String op, Tensor x, Tensor y) {
        CudaChecks.rank4(op, "input", x);
        CudaChecks.rank4(op, "output", y);
        if (x.dim(0) != y.dim(0) || x.dim(1) != y.dim(1) || y.dim(2) <= 0 || y.dim(3) <= 0 || x.dim(2) <= 0 || x.dim(3) <= 0) {
            throw new IllegalArgumentException(op + ": input " + x.shape() + " and output " + y.shape()
                    + " must share n and c, with positive spatial sizes");
        }
    }

    // ------------------------------------------------------------------ batch normalisation

    record BnKey(int n, int c, int inner) {
    }

    /** x viewed as n×c×inner×1 (spatial normalisation averages over n and inner alike) and the 1×c×1×1 parameters. */
    static final class BnPlan {
        final MemorySegment x, params;

        BnPlan(Cudnn dnn, BnKey k) {
            x = dnn.tensor4d(k.n(), k.c(), k.inner(), 1);
            params = dnn.tensor4d(1, k.c(), 1, 1);
        }

        void destroy(Cudnn dnn) {
            dnn.destroyTensor(x);
            dnn.destroyTensor(params);
        }
    }

    private BnPlan bnPlan(Tensor x) {
        BnKey k = new BnKey(x.dim(0), x.dim(1), Math.toIntExact(x.shape().sizeFrom(2)));
        return bnPlans.computeIfAbsent(k, key -> new BnPlan(dnn("batch normalisation"), key));
    }

    @Override
    public void batchNormTrainForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                      float momentum, float eps, Tensor y, Tensor saveMean, Tensor saveInvStd) {
        String op = "batchNormTrainForward";
        enter(op);
        for (Tensor t : new Tensor[]{x, gamma, beta, runningMean, runningVar, y, saveMean, saveInvStd}) {
            CudaChecks.onDevice(op, "argument", t, this, false);
        }
        CudaChecks.batchNorm(op, x, gamma, beta, runningMean, runningVar, saveMean, saveInvStd);
        CudaChecks.sameNumel(op, x, "x", y, "y");
        BnPlan p = bnPlan(x);
        cudnn.batchNormForwardTraining(p.x, ptr(x), ptr(y), p.params, ptr(gamma), ptr(beta), momentum, ptr(runningMean),
                ptr(runningVar), eps, ptr(saveMean), ptr(saveInvStd));
        // addresses are reused by the allocator, so the map stays small; the bound only guards odd callers
        if (bnEps.size() > 4096) bnEps.clear();
        bnEps.put(ptr(saveInvStd), eps);
    }

    @Override
    public void batchNormInferenceForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
                                          float eps, Tensor y) {
        String op = "batchNormInferenceForward";
        enter(op);
        for (Tensor t : new Tensor[]{x, gamma, beta, runningMean, runningVar, y}) CudaChecks.onDevice(op, "argument", t, this, false);
        CudaChecks.batchNorm(op, x, gamma, beta, runningMean, runningVar);
        CudaChecks.sameNumel(op, x, "x", y, "y");
        BnPlan p = bnPlan(x);
        cudnn.batchNormForwardInference(p.x, ptr(x), ptr(y), p.params, ptr(gamma), ptr(beta), ptr(runningMean),
                ptr(runningVar), eps);
    }

    /**
     * cuDNN recomputes nothing when given the saved mean and 1/σ, but its signature still takes the
     * ε of the forward; the Backend call does not carry it, so the ε recorded by the training forward
     * that filled saveInvStd is passed (PyTorch's default 1e-5 if that buffer was filled elsewhere).
     */
    @Override
    public void batchNormTrainBackward(Tensor x, Tensor dy, Tensor gamma, Tensor saveMean, Tensor saveInvStd,
                                       Tensor dx, Tensor dgamma, Tensor dbeta) {
        String op = "batchNormTrainBackward";
        enter(op);
        for (Tensor t : new Tensor[]{x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta}) {
            CudaChecks.onDevice(op, "argument", t, this, false);
        }
        CudaChecks.batchNorm(op, x, gamma, saveMean, saveInvStd, dgamma, dbeta);
        CudaChecks.sameNumel(op, x, "x", dy, "dy");
        CudaChecks.sameNumel(op, x, "x", dx, "dx");
        BnPlan p = bnPlan(x);
        float eps = bnEps.getOrDefault(ptr(saveInvStd), 1e-5f);
        cudnn.batchNormBackward(p.x, ptr(x), ptr(dy), ptr(dx), p.params, ptr(gamma), ptr(dgamma), ptr(dbeta), eps,
                ptr(saveMean), ptr(saveInvStd));
    }

    @Override
    public void batchNormInferenceBackward(Tensor x, Tensor dy, Tensor gamma, Tensor runningMean, Tensor runningVar,
                                           float eps, Tensor dx, Tensor dgamma, Tensor dbeta) {
        String op = "batchNormInferenceBackward";
        enter(op);
        for (Tensor t : new Tensor[]{x, dy, gamma, runningMean, runningVar, dx}) CudaChecks.onDevice(op, "argument", t, this, false);
        CudaChecks.onDevice(op, "dgamma", dgamma, this, true);
        CudaChecks.onDevice(op, "dbeta", dbeta, this, true);
        CudaChecks.batchNorm(op, x, gamma, runningMean, runningVar);
        CudaChecks.numel(op, "dgamma", dgamma, x.dim(1));
        CudaChecks.numel(op, "dbeta", dbeta, x.dim(1));
        CudaChecks.sameNumel(op, x, "x", dy, "dy");
        CudaChecks.sameNumel(op, x, "x", dx, "dx");
        int channels = x.dim(1), inner = Math.toIntExact(x.shape().sizeFrom(2));
        kernels.bnInferenceBackwardData(ptr(dy), ptr(gamma), ptr(runningVar), eps, ptr(dx), channels, inner, x.numel());
        if (dgamma != null || dbeta != null) {
            kernels.bnInferenceBackwardParams(ptr(x), ptr(dy), ptr(runningMean), ptr(runningVar), eps, ptr(dgamma), ptr(dbeta),
                    x.dim(0), channels, inner);
        }
    }

    // ------------------------------------------------------------------ activations and elementwise

    private void unary(String op, Tensor in, String inName, Tensor out, String outName) {
        enter(op);
        CudaChecks.onDevice(op, inName, in, this, false);
        CudaChecks.onDevice(op, outName, out, this, false);
        CudaChecks.sameNumel(op, in, inName, out, outName);
    }

    @Override
    public void reluForward(Tensor x, Tensor y) {
        unary("reluForward", x, "x", y, "y");
        kernels.reluForward(ptr(x), ptr(y), x.numel());
    }

    @Override
    public void reluBackward(Tensor y, Tensor dy, Tensor dx) {
        unary("reluBackward", y, "y", dx, "dx");
        CudaChecks.onDevice("reluBackward", "dy", dy, this, false);
        CudaChecks.sameNumel("reluBackward", y, "y", dy, "dy");
        kernels.reluBackward(ptr(y), ptr(dy), ptr(dx), y.numel());
    }

    @Override
    public void dropoutForward(Tensor x, float p, long seed, Tensor y) {
        unary("dropoutForward", x, "x", y, "y");
        kernels.dropoutForward(ptr(x), ptr(y), p, seed, x.numel());
    }

    @Override
    public void dropoutBackward(Tensor dy, float p, long seed, Tensor dx) {
        unary("dropoutBackward", dy, "dy", dx, "dx");
        kernels.dropoutBackward(ptr(dy), ptr(dx), p, seed, dy.numel());
    }

    @Override
    public void axpby(float a, Tensor x, float b, Tensor y, Tensor out) {
        unary("axpby", x, "x", out, "out");
        CudaChecks.onDevice("axpby", "y", y, this, false);
        CudaChecks.sameNumel("axpby", y, "y", out, "out");
        kernels.axpby(a, ptr(x), b, ptr(y), ptr(out), out.numel());
    }

    @Override
    public void scale(Tensor x, float a, Tensor out) {
        unary("scale", x, "x", out, "out");
        kernels.scale(ptr(x), a, ptr(out), out.numel());
    }

    /** Reads one double the kernels left in device memory. */
    private double readDouble(long address) {
        double[] out = new double[1];
        deviceToHost(address, MemorySegment.ofArray(out), 0, Double.BYTES);
        return out[0];
    }

    @Override
    public double sum(Tensor x) {
        enter("sum");
        CudaChecks.onDevice("sum", "x", x, this, false);
        long part = partials.ensure((long) CudaKernels.REDUCTION_BLOCKS * Double.BYTES);
        long out = result.ensure(Double.BYTES);
        kernels.sumPartials(ptr(x), part, x.numel());
        kernels.sumFinish(part, CudaKernels.REDUCTION_BLOCKS, out);
        return readDouble(out);
    }

    // ------------------------------------------------------------------ selection

    @Override
    public void argmax(Tensor x, int rows, int cols, int[] out) {
        enter("argmax");
        CudaChecks.onDevice("argmax", "x", x, this, false);
        CudaChecks.rowsCols("argmax", x, rows, cols);
        CudaChecks.rowsFitArray("argmax", "out", out.length, rows);
        long idx = rowBuffer.ensure((long) rows * Integer.BYTES);
        kernels.argmaxRows(ptr(x), idx, rows, cols);
        deviceToHost(idx, MemorySegment.ofArray(out), 0, (long) rows * Integer.BYTES);
    }

    /**
     * Top-k is small work on small tensors (logits of a batch): the values come to the host and
     * the CPU backend's selection runs on them, so ties break exactly as on the CPU.
     */
    @Override
    public void topk(Tensor x, int rows, int cols, int k, int[] indices, float[] values) {
        enter("topk");
        CudaChecks.onDevice("topk", "x", x, this, false);
        CudaChecks.rowsCols("topk", x, rows, cols);
        if (k <= 0 || k > cols) throw new IllegalArgumentException("topk: k=" + k + " must be in [1, " + cols + "]");
        CudaChecks.rowsFitArray("topk", "indices", indices.length, (long) rows * k);
        CudaChecks.rowsFitArray("topk", "values", values.length, (long) rows * k);
        float[] host = new float[Math.toIntExact(x.numel())];
        copyToHost(x, host, 0);
        CpuBackend cpu = CpuBackend.instance();
        try (Scope s = Scope.open()) {
            Tensor onCpu = Tensor.empty(cpu, Shape.of(rows, cols), "topk host copy");
            cpu.copyFromHost(host, 0, onCpu);
            cpu.topk(onCpu, rows, cols, k, indices, values);
        }
    }

    // ------------------------------------------------------------------ fused primitives

    /**
     * The kernel leaves one float loss per row; the rows are summed here in float64 in row order,
     * as the CPU backend sums its per-row losses.
     */
    @Override
    public double softmaxCrossEntropy(Tensor logits, int rows, int cols, int[] labels, Tensor grad, float gradScale,
                                      float[] rowLosses) {
        String op = "softmaxCrossEntropy";
        enter(op);
        CudaChecks.onDevice(op, "logits", logits, this, false);
        CudaChecks.onDevice(op, "grad", grad, this, true);
        CudaChecks.rowsCols(op, logits, rows, cols);
        CudaChecks.numel(op, "grad", grad, (long) rows * cols);
        CudaChecks.labels(op, labels, rows, cols);
        if (rowLosses != null) CudaChecks.rowsFitArray(op, "rowLosses", rowLosses.length, rows);
        long lab = labelBuffer.ensure((long) rows * Integer.BYTES);
        long loss = rowBuffer.ensure((long) rows * Float.BYTES);
        intsToDevice(labels, rows, lab);
        kernels.softmaxCrossEntropy(ptr(logits), lab, ptr(grad), loss, rows, cols, gradScale / rows);
        float[] losses = new float[rows];
        deviceToHost(loss, MemorySegment.ofArray(losses), 0, (long) rows * Float.BYTES);
        double total = 0;
        for (int r = 0; r < rows; r++) {
            total += losses[r];
            if (rowLosses != null) rowLosses[r] = losses[r];
        }
        return total / rows;
    }

    @Override
    public double featureMatching(Tensor a, Tensor b, Tensor gradA, Tensor gradB) {
        String op = "featureMatching";
        enter(op);
        CudaChecks.onDevice(op, "a", a, this, false);
        CudaChecks.onDevice(op, "b", b, this, false);
        CudaChecks.onDevice(op, "gradA", gradA, this, true);
        CudaChecks.onDevice(op, "gradB", gradB, this, true);
        CudaChecks.sameNumel(op, a, "a", b, "b");
        CudaChecks.numel(op, "gradA", gradA, a.numel());
        CudaChecks.numel(op, "gradB", gradB, a.numel());
        long n = a.numel();
        long part = partials.ensure((long) CudaKernels.REDUCTION_BLOCKS * Double.BYTES);
        long out = result.ensure(Double.BYTES);
        kernels.featureMatching(ptr(a), ptr(b), ptr(gradA), ptr(gradB), part, 2f / n, n);
        kernels.sumFinish(part, CudaKernels.REDUCTION_BLOCKS, out);
        return readDouble(out) / n;
    }

    @Override
    public void fgsmStep(Tensor x, Tensor grad, Tensor x0, float alpha, float eps, float[] lo, float[] hi) {
        String op = "fgsmStep";
        enter(op);
        CudaChecks.onDevice(op, "x", x, this, false);
        CudaChecks.onDevice(op, "grad", grad, this, false);
        CudaChecks.onDevice(op, "x0", x0, this, false);
        CudaChecks.sameNumel(op, x, "x", grad, "grad");
        CudaChecks.sameNumel(op, x, "x", x0, "x0");
        int channels = x.rank() >= 2 ? x.dim(1) : 1;
        int inner = x.rank() >= 2 ? Math.toIntExact(x.shape().sizeFrom(2)) : Math.toIntExact(x.numel());
        CudaChecks.bounds(op, lo, hi, channels);
        long bounds = deviceBounds(lo, hi);
        kernels.fgsmStep(ptr(x), ptr(grad), ptr(x0), bounds, bounds + (long) lo.length * Float.BYTES, alpha, eps, channels,
                inner, lo.length != 1, x.numel());
    }

    /** lo then hi in one small device array, uploaded only when the bounds change (an attack reuses them every step). */
    private long deviceBounds(float[] lo, float[] hi) {
        long address = boundsBuffer.ensure(2L * lo.length * Float.BYTES);
        if (!Arrays.equals(lo, boundsLo) || !Arrays.equals(hi, boundsHi) || boundsBuffer.reallocated) {
            float[] both = new float[2 * lo.length];
            System.arraycopy(lo, 0, both, 0, lo.length);
            System.arraycopy(hi, 0, both, lo.length, hi.length);
            hostToDevice(MemorySegment.ofArray(both), 0, address, (long) both.length * Float.BYTES);
            boundsLo = lo.clone();
            boundsHi = hi.clone();
            boundsBuffer.reallocated = false;
        }
        return address;
    }

    @Override
    public void sgdUpdate(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum, float dampening,
                          float weightDecay, boolean nesterov) {
        String op = "sgdUpdate";
        enter(op);
        CudaChecks.onDevice(op, "param", param, this, false);
        CudaChecks.onDevice(op, "grad", grad, this, false);
        CudaChecks.onDevice(op, "momentum buffer", momentumBuffer, this, momentum == 0f);
        CudaChecks.sameNumel(op, param, "param", grad, "grad");
        CudaChecks.numel(op, "momentum buffer", momentumBuffer, param.numel());
        kernels.sgdMomentum(ptr(param), ptr(grad), momentum == 0f ? 0L : ptr(momentumBuffer), lr, momentum, dampening,
                weightDecay, nesterov, param.numel());
    }

    // ------------------------------------------------------------------ scratch

    /**
     * A device buffer that grows and is kept (cuDNN workspace, reduction partials, per-row results),
     * so that steady-state calls allocate nothing. Growing frees the old block first; with one
     * stream the work still queued on it finishes before any later reuse.
     */
    private final class Scratch {
        private final String what;
        private long address;
        private long bytes;
        boolean reallocated;

        Scratch(String what) {
            this.what = what;
        }

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
}
