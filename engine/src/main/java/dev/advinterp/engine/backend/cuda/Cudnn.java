package dev.advinterp.engine.backend.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * FFM bindings to cuDNN's legacy (imperative) API as cuDNN 9 keeps it: float32 NCHW tensor,
 * filter, convolution and pooling descriptors; convolution forward, backward-data and
 * backward-filter with heuristic algorithm choice (cudnnGet*Algorithm_v7); pooling; batch
 * normalisation. Every status other than CUDNN_STATUS_SUCCESS (0) becomes a {@link CudaException}
 * with cudnnGetErrorString's text (cuDNN 9 renumbered its status codes, so no table is kept here).
 *
 * <p>Device pointers are passed as 64-bit integers (the same register as a pointer in the x86-64
 * and AArch64 C calling conventions); descriptors and handles as addresses; scalars alpha/beta
 * through a host buffer of two floats, as cuDNN reads them for float tensors.
 *
 * <p>Enumeration values below come from cudnn.h (7.6, unchanged in the legacy headers of 8 and 9:
 * cudnn_ops.h, cudnn_cnn.h, cudnn_graph.h).
 */
final class Cudnn implements AutoCloseable {
    static final String LIBRARY = "cuDNN";
    // cudnnDataType_t, cudnnTensorFormat_t
    static final int CUDNN_DATA_FLOAT = 0;
    static final int CUDNN_TENSOR_NCHW = 0;
    // cudnnConvolutionMode_t
    static final int CUDNN_CROSS_CORRELATION = 1;
    // cudnnMathType_t: DEFAULT = 0, TENSOR_OP = 1, TENSOR_OP_ALLOW_CONVERSION = 2, FMA = 3. DEFAULT lets
    // cuDNN 8+ run float convolutions as TF32 on Ampere and newer; FMA keeps them in FP32.
    static final int CUDNN_FMA_MATH = 3;
    // cudnnPoolingMode_t
    static final int CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING = 1;
    static final int CUDNN_POOLING_MAX_DETERMINISTIC = 3;
    // cudnnNanPropagation_t
    static final int CUDNN_PROPAGATE_NAN = 1;
    // cudnnBatchNormMode_t
    static final int CUDNN_BATCHNORM_SPATIAL = 1;
    // cudnnDeterminism_t
    static final int CUDNN_DETERMINISTIC = 1;

    /**
     * cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t: {int algo; int status; float time;
     * size_t memory; int determinism; int mathType; int reserved[3]} = 48 bytes with padding.
     */
    static final MemoryLayout ALGO_PERF = MemoryLayout.structLayout(JAVA_INT.withName("algo"),
            JAVA_INT.withName("status"), JAVA_FLOAT.withName("time"), MemoryLayout.paddingLayout(4),
            JAVA_LONG.withName("memory"), JAVA_INT.withName("determinism"), JAVA_INT.withName("mathType"),
            MemoryLayout.sequenceLayout(3, JAVA_INT).withName("reserved"), MemoryLayout.paddingLayout(4));
    static final int MAX_ALGOS = 16;

    /** One algorithm as cuDNN's heuristics describe it. */
    record AlgoPerf(int algo, int status, long memory, boolean deterministic, int mathType) {
    }

    private final NativeLibrary lib;
    private final MethodHandle create, destroy, setStream, getVersion, getErrorString,
            createTensor, setTensor4d, destroyTensor, createFilter, setFilter4d, destroyFilter,
            createConv, setConv2d, setConvGroups, setConvMath, destroyConv,
            fwdAlgo, fwdWs, convFwd, bwdDataAlgo, bwdDataWs, convBwdData, bwdFilterAlgo, bwdFilterWs, convBwdFilter,
            createPool, setPool2d, destroyPool, poolFwd, poolBwd, bnFwdTrain, bnFwdInfer, bnBwd;
    private final MemorySegment handle;
    private final long version;
    private final Arena arena = Arena.ofShared();
    /** alpha = 1, beta = 0 (overwrite), and alpha = 1, beta = 1 (accumulate), as host floats. */
    private final MemorySegment one = arena.allocate(JAVA_FLOAT), zero = arena.allocate(JAVA_FLOAT);
    private final MemorySegment outPtr = arena.allocate(ADDRESS), outInt = arena.allocate(JAVA_INT),
            outSize = arena.allocate(JAVA_LONG);
    private final MemorySegment perf = arena.allocate(ALGO_PERF, MAX_ALGOS);

    /** cuDNN with a handle bound to {@code stream}: needs a working driver and GPU. */
    Cudnn(Path libcudnn, MemorySegment stream) {
        this(libcudnn, stream, true);
    }

    /**
     * The bindings without a handle: the version, error strings and descriptors, which cuDNN
     * keeps on the host and which work on a machine without a GPU (used to check the bindings
     * against a real cuDNN there). Calls that need a handle fail with cuDNN's own status.
     */
    static Cudnn withoutHandle(Path libcudnn) {
        return new Cudnn(libcudnn, MemorySegment.NULL, false);
    }

    private Cudnn(Path libcudnn, MemorySegment stream, boolean createHandle) {
        lib = NativeLibrary.load("cuDNN", libcudnn);
        create = h("cudnnCreate", ADDRESS);
        destroy = h("cudnnDestroy", ADDRESS);
        setStream = h("cudnnSetStream", ADDRESS, ADDRESS);
        getVersion = lib.handle("cudnnGetVersion", FunctionDescriptor.of(JAVA_LONG));
        getErrorString = lib.handle("cudnnGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        createTensor = h("cudnnCreateTensorDescriptor", ADDRESS);
        setTensor4d = h("cudnnSetTensor4dDescriptor", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
        destroyTensor = h("cudnnDestroyTensorDescriptor", ADDRESS);
        createFilter = h("cudnnCreateFilterDescriptor", ADDRESS);
        // (desc, dataType, format, k, c, h, w): data type before format, unlike the tensor call
        setFilter4d = h("cudnnSetFilter4dDescriptor", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
        destroyFilter = h("cudnnDestroyFilterDescriptor", ADDRESS);
        createConv = h("cudnnCreateConvolutionDescriptor", ADDRESS);
        setConv2d = h("cudnnSetConvolution2dDescriptor", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT);
        setConvGroups = h("cudnnSetConvolutionGroupCount", ADDRESS, JAVA_INT);
        setConvMath = h("cudnnSetConvolutionMathType", ADDRESS, JAVA_INT);
        destroyConv = h("cudnnDestroyConvolutionDescriptor", ADDRESS);
        // (handle, xDesc, wDesc, convDesc, yDesc, requested, *returned, *perf)
        fwdAlgo = h("cudnnGetConvolutionForwardAlgorithm_v7", ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT,
                ADDRESS, ADDRESS);
        // (handle, xDesc, wDesc, convDesc, yDesc, algo, *size)
        fwdWs = h("cudnnGetConvolutionForwardWorkspaceSize", ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS);
        // (handle, alpha, xDesc, x, wDesc, w, convDesc, algo, ws, wsSize, beta, yDesc, y)
        convFwd = h("cudnnConvolutionForward", ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, JAVA_INT,
                JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG);
        // (handle, wDesc, dyDesc, convDesc, dxDesc, requested, *returned, *perf)
        bwdDataAlgo = h("cudnnGetConvolutionBackwardDataAlgorithm_v7", ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                JAVA_INT, ADDRESS, ADDRESS);
        bwdDataWs = h("cudnnGetConvolutionBackwardDataWorkspaceSize", ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                JAVA_INT, ADDRESS);
        // (handle, alpha, wDesc, w, dyDesc, dy, convDesc, algo, ws, wsSize, beta, dxDesc, dx)
        convBwdData = h("cudnnConvolutionBackwardData", ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS,
                JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG);
        // (handle, xDesc, dyDesc, convDesc, dwDesc, requested, *returned, *perf)
        bwdFilterAlgo = h("cudnnGetConvolutionBackwardFilterAlgorithm_v7", ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                JAVA_INT, ADDRESS, ADDRESS);
        bwdFilterWs = h("cudnnGetConvolutionBackwardFilterWorkspaceSize", ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                JAVA_INT, ADDRESS);
        // (handle, alpha, xDesc, x, dyDesc, dy, convDesc, algo, ws, wsSize, beta, dwDesc, dw)
        convBwdFilter = h("cudnnConvolutionBackwardFilter", ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG,
                ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG);
        createPool = h("cudnnCreatePoolingDescriptor", ADDRESS);
        // (desc, mode, nanOpt, windowH, windowW, padH, padW, strideH, strideW)
        setPool2d = h("cudnnSetPooling2dDescriptor", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT);
        destroyPool = h("cudnnDestroyPoolingDescriptor", ADDRESS);
        // (handle, poolDesc, alpha, xDesc, x, beta, yDesc, y)
        poolFwd = h("cudnnPoolingForward", ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG);
        // (handle, poolDesc, alpha, yDesc, y, dyDesc, dy, xDesc, x, beta, dxDesc, dx)
        poolBwd = h("cudnnPoolingBackward", ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS,
                JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG);
        // (handle, mode, alpha, beta, xDesc, x, yDesc, y, bnDesc, scale, bias, factor, runMean, runVar, eps,
        //  saveMean, saveInvVar)
        bnFwdTrain = h("cudnnBatchNormalizationForwardTraining", ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG,
                ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_DOUBLE, JAVA_LONG, JAVA_LONG, JAVA_DOUBLE,
                JAVA_LONG, JAVA_LONG);
        // (handle, mode, alpha, beta, xDesc, x, yDesc, y, bnDesc, scale, bias, mean, var, eps)
        bnFwdInfer = h("cudnnBatchNormalizationForwardInference", ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG,
                ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_DOUBLE);
        // (handle, mode, alphaData, betaData, alphaParam, betaParam, xDesc, x, dyDesc, dy, dxDesc, dx, bnDesc, scale,
        //  dScale, dBias, eps, savedMean, savedInvVar)
        bnBwd = h("cudnnBatchNormalizationBackward", ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_DOUBLE,
                JAVA_LONG, JAVA_LONG);
        one.set(JAVA_FLOAT, 0, 1f);
        zero.set(JAVA_FLOAT, 0, 0f);
        try {
            version = (long) getVersion.invokeExact();
            if (createHandle) {
                check("cudnnCreate", (int) create.invokeExact(outPtr));
                handle = outPtr.get(ADDRESS, 0);
                check("cudnnSetStream", (int) setStream.invokeExact(handle, stream));
            } else {
                handle = MemorySegment.NULL;
            }
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuDNN initialisation", t);
        }
    }

    private MethodHandle h(String name, MemoryLayout... args) {
        return lib.handle(name, FunctionDescriptor.of(JAVA_INT, args));
    }

    Path path() {
        return lib.path();
    }

    /** "9.10.2" from cudnnGetVersion (major·10000 + minor·100 + patch since cuDNN 9; major·1000 + … before). */
    String versionString() {
        long v = version;
        return v >= 90000 ? (v / 10000) + "." + (v / 100 % 100) + "." + (v % 100)
                : (v / 1000) + "." + (v / 100 % 10) + "." + (v % 100);
    }

    void check(String call, int status) {
        if (status != 0) {
            String text;
            try {
                MemorySegment s = (MemorySegment) getErrorString.invokeExact(status);
                text = s.equals(MemorySegment.NULL) ? "cudnnStatus " + status : s.reinterpret(512).getString(0);
            } catch (Throwable t) {
                text = "cudnnStatus " + status;
            }
            throw new CudaException(LIBRARY, call, status, text, null);
        }
    }

    // ---------------------------------------------------------------- descriptors

    /** A float32 NCHW tensor descriptor of n×c×h×w. */
    MemorySegment tensor4d(int n, int c, int h, int w) {
        try {
            check("cudnnCreateTensorDescriptor", (int) createTensor.invokeExact(outPtr));
            MemorySegment d = outPtr.get(ADDRESS, 0);
            check("cudnnSetTensor4dDescriptor(" + n + "×" + c + "×" + h + "×" + w + ")",
                    (int) setTensor4d.invokeExact(d, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, h, w));
            return d;
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cudnnSetTensor4dDescriptor", t);
        }
    }

    void destroyTensor(MemorySegment d) {
        try {
            check("cudnnDestroyTensorDescriptor", (int) destroyTensor.invokeExact(d));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cudnnDestroyTensorDescriptor", t);
        }
    }

    /** A float32 NCHW filter descriptor of k×c×h×w. */
    MemorySegment filter4d(int k, int c, int h, int w) {
        try {
            check("cudnnCreateFilterDescriptor", (int) createFilter.invokeExact(outPtr));
            MemorySegment d = outPtr.get(ADDRESS, 0);
            check("cudnnSetFilter4dDescriptor(" + k + "×" + c + "×" + h + "×" + w + ")",
                    (int) setFilter4d.invokeExact(d, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, k, c, h, w));
            return d;
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cudnnSetFilter4dDescriptor", t);
        }
    }

    void destroyFilter(MemorySegment d) {
        try {
            check("cudnnDestroyFilterDescriptor", (int) destroyFilter.invokeExact(d));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cudnnDestroyFilterDescriptor", t);
        }
    }

    /** Cross-correlation (what deep-learning "convolution" means), FP32 compute and FP32 math, one group. */
    MemorySegment convolution2d(int padH, int padW, int strideH, int strideW) {
        try {
            check("cudnnCreateConvolutionDescriptor", (int) createConv.invokeExact(outPtr));
            MemorySegment d = outPtr.get(ADDRESS, 0);
            check("cudnnSetConvolution2dDescriptor", (int) setConv2d.invokeExact(d, padH, padW, strideH, strideW, 1, 1,
                    CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
            check("cudnnSetConvolutionGroupCount", (int) setConvGroups.invokeExact(d, 1));
            check("cudnnSetConvolutionMathType(CUDNN_FMA_MATH)", (int) setConvMath.invokeExact(d, CUDNN_FMA_MATH));
            return d;
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cudnnSetConvolution2dDescriptor", t);
        }
    }

    void destroyConvolution(MemorySegment d) {
        try {
            check("cudnnDestroyConvolutionDescriptor", (int) destroyConv.invokeExact(d));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cudnnDestroyConvolutionDescriptor", t);
        }
    }

    MemorySegment pooling2d(int mode, int kh, int kw, int padH, int padW, int strideH, int strideW) {
        try {
            check("cudnnCreatePoolingDescriptor", (int) createPool.invokeExact(outPtr));
            MemorySegment d = outPtr.get(ADDRESS, 0);
            check("cudnnSetPooling2dDescriptor", (int) setPool2d.invokeExact(d, mode, CUDNN_PROPAGATE_NAN, kh, kw, padH,
                    padW, strideH, strideW));
            return d;
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cudnnSetPooling2dDescriptor", t);
        }
    }

    void destroyPooling(MemorySegment d) {
        try {
            check("cudnnDestroyPoolingDescriptor", (int) destroyPool.invokeExact(d));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cudnnDestroyPoolingDescriptor", t);
        }
    }

    // ---------------------------------------------------------------- convolution algorithms

    enum Direction { FORWARD, BACKWARD_DATA, BACKWARD_FILTER }

    /**
     * cuDNN's heuristic ranking for one direction (best first), as returned by
     * cudnnGet{Forward,BackwardData,BackwardFilter}Algorithm_v7; no benchmarking runs.
     */
    AlgoPerf[] rankAlgorithms(Direction dir, MemorySegment x, MemorySegment w, MemorySegment conv, MemorySegment y) {
        try {
            int rc = switch (dir) {
                case FORWARD -> (int) fwdAlgo.invokeExact(handle, x, w, conv, y, MAX_ALGOS, outInt, perf);
                case BACKWARD_DATA -> (int) bwdDataAlgo.invokeExact(handle, w, y, conv, x, MAX_ALGOS, outInt, perf);
                case BACKWARD_FILTER -> (int) bwdFilterAlgo.invokeExact(handle, x, y, conv, w, MAX_ALGOS, outInt, perf);
            };
            check("cudnnGetConvolution" + dir + "Algorithm_v7", rc);
            int n = Math.min(outInt.get(JAVA_INT, 0), MAX_ALGOS);
            AlgoPerf[] out = new AlgoPerf[n];
            for (int i = 0; i < n; i++) {
                long base = i * ALGO_PERF.byteSize();
                out[i] = new AlgoPerf(perf.get(JAVA_INT, base), perf.get(JAVA_INT, base + 4), perf.get(JAVA_LONG, base + 16),
                        perf.get(JAVA_INT, base + 24) == CUDNN_DETERMINISTIC, perf.get(JAVA_INT, base + 28));
            }
            return out;
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cudnnGetConvolution" + dir + "Algorithm_v7", t);
        }
    }

    long workspaceSize(Direction dir, MemorySegment x, MemorySegment w, MemorySegment conv, MemorySegment y, int algo) {
        try {
            int rc = switch (dir) {
                case FORWARD -> (int) fwdWs.invokeExact(handle, x, w, conv, y, algo, outSize);
                case BACKWARD_DATA -> (int) bwdDataWs.invokeExact(handle, w, y, conv, x, algo, outSize);
                case BACKWARD_FILTER -> (int) bwdFilterWs.invokeExact(handle, x, y, conv, w, algo, outSize);
            };
            check("cudnnGetConvolution" + dir + "WorkspaceSize(algo " + algo + ")", rc);
            return outSize.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cudnnGetConvolution" + dir + "WorkspaceSize", t);
        }
    }

    // ---------------------------------------------------------------- convolution

    /** y = conv(x, w) (overwrites y). */
    void convolutionForward(MemorySegment xDesc, long x, MemorySegment wDesc, long w, MemorySegment conv, int algo,
                            long ws, long wsBytes, MemorySegment yDesc, long y) {
        try {
            check("cudnnConvolutionForward(algo " + algo + ")", (int) convFwd.invokeExact(handle, one, xDesc, x, wDesc, w,
                    conv, algo, ws, wsBytes, zero, yDesc, y));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cudnnConvolutionForward", t);
        }
    }

    /** dx = conv_transpose(dy, w) (overwrites dx). */
    void convolutionBackwardData(MemorySegment wDesc, long w, MemorySegment dyDesc, long dy, MemorySegment conv, int algo,
                                 long ws, long wsBytes, MemorySegment dxDesc, long dx) {
        try {
            check("cudnnConvolutionBackwardData(algo " + algo + ")", (int) convBwdData.invokeExact(handle, one, wDesc, w,
                    dyDesc, dy, conv, algo, ws, wsBytes, zero, dxDesc, dx));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cudnnConvolutionBackwardData", t);
        }
    }

    /** dw = Σ_n dy ⋆ x (overwrites dw). */
    void convolutionBackwardFilter(MemorySegment xDesc, long x, MemorySegment dyDesc, long dy, MemorySegment conv, int algo,
                                   long ws, long wsBytes, MemorySegment dwDesc, long dw) {
        try {
            check("cudnnConvolutionBackwardFilter(algo " + algo + ")", (int) convBwdFilter.invokeExact(handle, one, xDesc, x,
                    dyDesc, dy, conv, algo, ws, wsBytes, zero, dwDesc, dw));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cudnnConvolutionBackwardFilter", t);
        }
    }

    // ---------------------------------------------------------------- pooling

    void poolingForward(MemorySegment pool, MemorySegment xDesc, long x, MemorySegment yDesc, long y) {
        try {
            check("cudnnPoolingForward", (int) poolFwd.invokeExact(handle, pool, one, xDesc, x, zero, yDesc, y));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cudnnPoolingForward", t);
        }
    }

    /** dx (overwritten) from dy, given the forward's input x and output y. */
    void poolingBackward(MemorySegment pool, MemorySegment yDesc, long y, long dy, MemorySegment xDesc, long x, long dx) {
        try {
            check("cudnnPoolingBackward", (int) poolBwd.invokeExact(handle, pool, one, yDesc, y, yDesc, dy, xDesc, x, zero,
                    xDesc, dx));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cudnnPoolingBackward", t);
        }
    }

    // ---------------------------------------------------------------- batch normalisation (spatial)

    void batchNormForwardTraining(MemorySegment xDesc, long x, long y, MemorySegment bnDesc, long gamma, long beta,
                                  double momentum, long runMean, long runVar, double eps, long saveMean, long saveInvStd) {
        try {
            check("cudnnBatchNormalizationForwardTraining", (int) bnFwdTrain.invokeExact(handle, CUDNN_BATCHNORM_SPATIAL,
                    one, zero, xDesc, x, xDesc, y, bnDesc, gamma, beta, momentum, runMean, runVar, eps, saveMean, saveInvStd));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cudnnBatchNormalizationForwardTraining", t);
        }
    }

    void batchNormForwardInference(MemorySegment xDesc, long x, long y, MemorySegment bnDesc, long gamma, long beta,
                                   long runMean, long runVar, double eps) {
        try {
            check("cudnnBatchNormalizationForwardInference", (int) bnFwdInfer.invokeExact(handle, CUDNN_BATCHNORM_SPATIAL,
                    one, zero, xDesc, x, xDesc, y, bnDesc, gamma, beta, runMean, runVar, eps));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cudnnBatchNormalizationForwardInference", t);
        }
    }

    void batchNormBackward(MemorySegment xDesc, long x, long dy, long dx, MemorySegment bnDesc, long gamma, long dgamma,
                           long dbeta, double eps, long saveMean, long saveInvStd) {
        try {
            check("cudnnBatchNormalizationBackward", (int) bnBwd.invokeExact(handle, CUDNN_BATCHNORM_SPATIAL, one, zero, one,
                    zero, xDesc, x, xDesc, dy, xDesc, dx, bnDesc, gamma, dgamma, dbeta, eps, saveMean, saveInvStd));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cudnnBatchNormalizationBackward", t);
        }
    }

    /** cudnnCreate on its own, for checking its failure on a machine without a GPU; the handle is destroyed at once. */
    void createAndDestroyHandle() {
        try {
            check("cudnnCreate", (int) create.invokeExact(outPtr));
            check("cudnnDestroy", (int) destroy.invokeExact(outPtr.get(ADDRESS, 0)));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cudnnCreate", t);
        }
    }

    @Override
    public void close() {
        if (handle.equals(MemorySegment.NULL)) return;
        try {
            check("cudnnDestroy", (int) destroy.invokeExact(handle));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cudnnDestroy", t);
        }
    }
}
