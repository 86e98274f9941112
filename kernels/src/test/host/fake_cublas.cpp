// A stand-in for libcublas with the seven calls the engine binds, for running the CUDA backend's
// GEMM path on the CPU together with fake_driver.cpp, into whose library it is built (its SGEMM is
// queued on the handle's stream of that driver). The prototypes are cuBLAS's (cublas_api.h of
// cuBLAS 12 and 13; the header is not on the development machine, so they are written out here
// from the documented API). cublasSgemm_v2 is a column-major reference GEMM with float64
// accumulation that keeps cuBLAS's rules: leading dimensions at least the stored rows (else
// CUBLAS_STATUS_INVALID_VALUE), C not read when beta is 0, alpha and beta read from host memory.
// Math modes other than CUBLAS_DEFAULT_MATH and CUBLAS_PEDANTIC_MATH are refused, so that a
// TF32 mode set by mistake fails the tests instead of passing silently; so is an SGEMM on a handle
// never bound to a stream (the engine queues all work on its one stream, and real cuBLAS would
// run such a call on the default stream, out of order with it).

#include <cstdio>
#include <cstring>
#include <functional>
#include <set>

extern "C" {
struct cublasContext {
    void* stream;
    int mathMode;
};
typedef cublasContext* cublasHandle_t;
typedef int cublasStatus_t;
struct CUstream_st;

enum {
    CUBLAS_STATUS_SUCCESS = 0,
    CUBLAS_STATUS_NOT_INITIALIZED = 1,
    CUBLAS_STATUS_INVALID_VALUE = 7,
    CUBLAS_STATUS_NOT_SUPPORTED = 15,
};
enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1 };
enum { CUBLAS_DEFAULT_MATH = 0, CUBLAS_PEDANTIC_MATH = 2 };
}

// fake_driver.cpp, built into the same library: queues work on one of its streams, so that the
// SGEMM runs in order with the kernels and copies queued before and after it.
void adv_fake_enqueue(CUstream_st* s, std::function<int()> op);

namespace {
void gemm(int transa, int transb, int m, int n, int k, float a, const float* A, int lda, const float* B, int ldb, float b,
          float* C, int ldc);
std::set<cublasHandle_t> handles;
long long gemmCalls = 0;
}

extern "C" {

/** Live handles and SGEMM calls so far, for the tests. */
void adv_fake_cublas_state(long long* out) {
    out[0] = (long long)handles.size();
    out[1] = gemmCalls;
}

const char* cublasGetStatusName(cublasStatus_t status) {
    switch (status) {
        case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
        case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
        case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
        case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
        default: return "CUBLAS_STATUS_UNKNOWN";
    }
}

cublasStatus_t cublasCreate_v2(cublasHandle_t* handle) {
    if (handle == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
    *handle = new cublasContext{nullptr, CUBLAS_DEFAULT_MATH};
    handles.insert(*handle);
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy_v2(cublasHandle_t handle) {
    if (handles.erase(handle) != 1) return CUBLAS_STATUS_NOT_INITIALIZED;
    delete handle;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, CUstream_st* streamId) {
    if (handles.count(handle) != 1) return CUBLAS_STATUS_NOT_INITIALIZED;
    handle->stream = streamId;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, int mode) {
    if (handles.count(handle) != 1) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (mode != CUBLAS_DEFAULT_MATH && mode != CUBLAS_PEDANTIC_MATH) return CUBLAS_STATUS_NOT_SUPPORTED;
    handle->mathMode = mode;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetVersion_v2(cublasHandle_t handle, int* version) {
    if (handles.count(handle) != 1) return CUBLAS_STATUS_NOT_INITIALIZED;
    if (version == nullptr) return CUBLAS_STATUS_INVALID_VALUE;
    *version = 120600;
    return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSgemm_v2(cublasHandle_t handle, int transa, int transb, int m, int n, int k, const float* alpha,
                              const float* A, int lda, const float* B, int ldb, const float* beta, float* C, int ldc) {
    if (handles.count(handle) != 1) return CUBLAS_STATUS_NOT_INITIALIZED;
    if ((transa != CUBLAS_OP_N && transa != CUBLAS_OP_T) || (transb != CUBLAS_OP_N && transb != CUBLAS_OP_T)) {
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    const int aRows = transa == CUBLAS_OP_N ? m : k, bRows = transb == CUBLAS_OP_N ? k : n;
    if (m < 0 || n < 0 || k < 0 || lda < (aRows > 1 ? aRows : 1) || ldb < (bRows > 1 ? bRows : 1) ||
        ldc < (m > 1 ? m : 1) || alpha == nullptr || beta == nullptr) {
        return CUBLAS_STATUS_INVALID_VALUE;
    }
    if (handle->stream == nullptr) return CUBLAS_STATUS_NOT_SUPPORTED;
    gemmCalls++;
    // alpha and beta are host scalars, read at the call; the product runs in stream order
    const float a = *alpha, b = *beta;
    adv_fake_enqueue(static_cast<CUstream_st*>(handle->stream), [=] {
        gemm(transa, transb, m, n, k, a, A, lda, B, ldb, b, C, ldc);
        return 0;
    });
    return CUBLAS_STATUS_SUCCESS;
}

}  // extern "C"

namespace {
void gemm(int transa, int transb, int m, int n, int k, float a, const float* A, int lda, const float* B, int ldb, float b,
          float* C, int ldc) {
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < m; i++) {
            double acc = 0.0;
            for (int p = 0; p < k; p++) {
                const float av = transa == CUBLAS_OP_N ? A[i + (long long)p * lda] : A[p + (long long)i * lda];
                const float bv = transb == CUBLAS_OP_N ? B[p + (long long)j * ldb] : B[j + (long long)p * ldb];
                acc += (double)av * (double)bv;
            }
            float& c = C[i + (long long)j * ldc];
            c = b == 0.0f ? (float)(a * acc) : (float)(a * acc + (double)b * (double)c);
        }
    }
}
}  // namespace
