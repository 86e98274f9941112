// The feature-matching loss of the consistent adversarial training: loss and both gradients in
// one pass, with a deterministic fixed-grid reduction.
#include "common.cuh"

// One element: the squared difference (float64, as the CPU adds (double) d·d) and the gradients
// gradScale·d and −(gradScale·d), which equal the CPU's k·d and (−k)·d exactly.
static __device__ __forceinline__ double fm_one(float a, float b, float* gradA, float* gradB, long long i,
                                                float gradScale) {
    const float d = a - b;
    const float g = gradScale * d;
    if (gradA != nullptr) gradA[i] = g;
    if (gradB != nullptr) gradB[i] = -g;
    return (double)d * (double)d;
}

// feature_matching_f32: partials[k] = Σ_{i in slice k} (a[i] − b[i])² in float64;
// gradA[i] = gradScale·(a[i] − b[i]) and gradB[i] = −gradA[i] (either may be NULL).
// The host then runs sum_finish_f64 over the 256 partials and divides by n; for the engine's
// loss mean((a − b)²) it passes gradScale = 2f/n (computed in float, as the CPU does).
// Launch: EXACTLY 256 blocks × 256 threads; block k owns slice k (a multiple of 4 elements) and
// thread t the quads t, t+256, ... of it, loaded as float4 when every pointer is 16-byte aligned.
// The order of the additions is the same on both paths, so the loss depends on the data only.
// Shapes: a, b, gradA, gradB [n], partials [256]. Bytes: 8n read + 4n per gradient written.
extern "C" __global__ void __launch_bounds__(ADV_THREADS)
feature_matching_f32(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ gradA,
                     float* __restrict__ gradB, double* __restrict__ partials, float gradScale, long long n) {
    __shared__ double scratch[ADV_THREADS];
    long long begin, end;
    reduce_slice(n, &begin, &end);
    const bool vec = aligned16(a) && aligned16(b) && aligned16(gradA) && aligned16(gradB);
    double acc = 0.0;
    for (long long q = begin + 4ll * threadIdx.x; q < end; q += 4ll * ADV_THREADS) {
        if (vec && q + 4 <= end) {
            const float4 av = __ldg(reinterpret_cast<const float4*>(a + q));
            const float4 bv = __ldg(reinterpret_cast<const float4*>(b + q));
            const float4 d = make_float4(av.x - bv.x, av.y - bv.y, av.z - bv.z, av.w - bv.w);
            const float4 g = make_float4(gradScale * d.x, gradScale * d.y, gradScale * d.z, gradScale * d.w);
            if (gradA != nullptr) *reinterpret_cast<float4*>(gradA + q) = g;
            if (gradB != nullptr) *reinterpret_cast<float4*>(gradB + q) = make_float4(-g.x, -g.y, -g.z, -g.w);
            acc += (double)d.x * (double)d.x;
            acc += (double)d.y * (double)d.y;
            acc += (double)d.z * (double)d.z;
            acc += (double)d.w * (double)d.w;
        } else {
            for (long long i = q; i < q + 4 && i < end; i++) acc += fm_one(a[i], b[i], gradA, gradB, i, gradScale);
        }
    }
    const double s = block_sum_f64(acc, scratch);
    if (threadIdx.x == 0) partials[blockIdx.x] = s;
}
