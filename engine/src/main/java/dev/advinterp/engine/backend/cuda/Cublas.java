package dev.advinterp.engine.backend.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * FFM bindings to cuBLAS (v2 API): one handle bound to the backend's stream, FP32 math without
 * TF32 (CUBLAS_DEFAULT_MATH), and SGEMM. Scalars are passed by host pointer (the handle's
 * default pointer mode). cuBLAS is column-major; {@link #mapRowMajor} turns the engine's
 * row-major GEMM into the equivalent column-major call.
 */
final class Cublas implements AutoCloseable {
    static final String LIBRARY = "cuBLAS";
    // cublas_api.h, cublasOperation_t
    static final int CUBLAS_OP_N = 0;
    static final int CUBLAS_OP_T = 1;
    // cublas_api.h, cublasMath_t: DEFAULT = 0, TENSOR_OP = 1, PEDANTIC = 2, TF32_TENSOR_OP = 3
    static final int CUBLAS_DEFAULT_MATH = 0;

    private final NativeLibrary lib;
    private final MethodHandle create, destroy, setStream, setMathMode, getVersion, sgemm;
    private final Optional<MethodHandle> statusName;
    private final MemorySegment handle;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment alphaBeta = arena.allocate(8, 8);
    private final int version;

    Cublas(Path libcublas, MemorySegment stream) {
        lib = NativeLibrary.load("cuBLAS", libcublas);
        create = lib.handle("cublasCreate_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        destroy = lib.handle("cublasDestroy_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        setStream = lib.handle("cublasSetStream_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        setMathMode = lib.handle("cublasSetMathMode", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        getVersion = lib.handle("cublasGetVersion_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        sgemm = lib.handle("cublasSgemm_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
        statusName = lib.optionalHandle("cublasGetStatusName", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check("cublasCreate_v2", (int) create.invokeExact(out));
            handle = out.get(ADDRESS, 0);
            check("cublasSetStream_v2", (int) setStream.invokeExact(handle, stream));
            check("cublasSetMathMode(CUBLAS_DEFAULT_MATH)", (int) setMathMode.invokeExact(handle, CUBLAS_DEFAULT_MATH));
            MemorySegment v = a.allocate(JAVA_INT);
            check("cublasGetVersion_v2", (int) getVersion.invokeExact(handle, v));
            version = v.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuBLAS initialisation", t);
        }
    }

    /** e.g. 130100 for 13.1.0 (major·10000 + minor·100 + patch). */
    int version() {
        return version;
    }

    String versionString() {
        return (version / 10000) + "." + (version / 100 % 100) + "." + (version % 100);
    }

    Path path() {
        return lib.path();
    }

    /**
     * The column-major SGEMM that computes a row-major {@code C = alpha·op(A)·op(B) + beta·C}.
     * A row-major matrix read as column-major is its transpose, so the engine's C is cuBLAS's Cᵀ,
     * and Cᵀ = op(B)ᵀ·op(A)ᵀ: the engine's B becomes cuBLAS's first operand with transB, A the
     * second with transA, and m and n trade places. Leading dimensions and offsets travel with
     * their matrices unchanged.
     */
    record ColumnMajorCall(boolean transFirst, boolean transSecond, int m, int n, int k,
                           boolean firstIsEngineB, long firstOffset, int ldFirst,
                           long secondOffset, int ldSecond, long cOffset, int ldc) {
    }

    static ColumnMajorCall mapRowMajor(boolean transA, boolean transB, int m, int n, int k,
                                       long aOffset, int lda, long bOffset, int ldb, long cOffset, int ldc) {
        return new ColumnMajorCall(transB, transA, n, m, k, true, bOffset, ldb, aOffset, lda, cOffset, ldc);
    }

    /** The engine's row-major GEMM on device pointers (float offsets already checked by the caller). */
    void sgemmRowMajor(boolean transA, boolean transB, int m, int n, int k, float alpha,
                       long a, long aOffset, int lda, long b, long bOffset, int ldb, float beta,
                       long c, long cOffset, int ldc) {
        ColumnMajorCall call = mapRowMajor(transA, transB, m, n, k, aOffset, lda, bOffset, ldb, cOffset, ldc);
        long first = (call.firstIsEngineB() ? b : a) + 4 * call.firstOffset();
        long second = (call.firstIsEngineB() ? a : b) + 4 * call.secondOffset();
        alphaBeta.set(JAVA_FLOAT, 0, alpha);
        alphaBeta.set(JAVA_FLOAT, 4, beta);
        try {
            check("cublasSgemm_v2", (int) sgemm.invokeExact(handle,
                    call.transFirst() ? CUBLAS_OP_T : CUBLAS_OP_N, call.transSecond() ? CUBLAS_OP_T : CUBLAS_OP_N,
                    call.m(), call.n(), call.k(), alphaBeta.asSlice(0, 4), first, call.ldFirst(), second, call.ldSecond(),
                    alphaBeta.asSlice(4, 4), c + 4 * call.cOffset(), call.ldc()));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cublasSgemm_v2", t);
        }
    }

    private void check(String call, int status) {
        if (status != 0) throw new CudaException(LIBRARY, call, status, statusName(status), null);
    }

    /** cublas_api.h, cublasStatus_t; asks the library first (cublasGetStatusName, cuBLAS 11.4+). */
    private String statusName(int status) {
        if (statusName.isPresent()) {
            try {
                MemorySegment s = (MemorySegment) statusName.get().invokeExact(status);
                if (!s.equals(MemorySegment.NULL)) return s.reinterpret(256).getString(0);
            } catch (Throwable ignored) {
                // fall back to the table below
            }
        }
        return switch (status) {
            case 1 -> "CUBLAS_STATUS_NOT_INITIALIZED";
            case 3 -> "CUBLAS_STATUS_ALLOC_FAILED";
            case 7 -> "CUBLAS_STATUS_INVALID_VALUE";
            case 8 -> "CUBLAS_STATUS_ARCH_MISMATCH";
            case 11 -> "CUBLAS_STATUS_MAPPING_ERROR";
            case 13 -> "CUBLAS_STATUS_EXECUTION_FAILED";
            case 14 -> "CUBLAS_STATUS_INTERNAL_ERROR";
            case 15 -> "CUBLAS_STATUS_NOT_SUPPORTED";
            case 16 -> "CUBLAS_STATUS_LICENSE_ERROR";
            default -> "cublasStatus " + status;
        };
    }

    @Override
    public void close() {
        try {
            check("cublasDestroy_v2", (int) destroy.invokeExact(handle));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cublasDestroy_v2", t);
        }
    }
}
