// The fused FGSM/BIM/PGD step: one pass over x, g and x0, in place on x.
#include "common.cuh"

// One element, in the CPU reference's order (CpuFused.fgsmStep): sign(0) = sign(NaN) = 0, and
// Java's Math.max/min for the clip so that NaN and ±0 come out as on the CPU.
static __device__ __forceinline__ float fgsm_one(float xv, float g, float o, float l, float h, float alpha, float eps) {
    const float sign = g > 0.0f ? 1.0f : (g < 0.0f ? -1.0f : 0.0f);
    const float v = xv + alpha * sign;
    const float lower = java_maxf(o - eps, l);
    const float upper = java_minf(o + eps, h);
    return java_minf(java_maxf(v, lower), upper);
}

// fgsm_step_f32: x[i] ← clip(x[i] + α·sign(g[i]), max(x0[i] − ε, lo[c]), min(x0[i] + ε, hi[c])),
// c = (i / inner) % channels when perChannel != 0 (lo, hi: device arrays of `channels` floats),
// else c = 0 (lo, hi: one float each). sign(0) = 0.
// Shapes: x, g, x0 [outer, channels, inner] = [n]. Bytes: 12n read + 4n written (lo/hi stay in L1).
// Access: when x, g and x0 are 16-byte aligned, quads of 4 elements move as float4 (four 16-byte
// loads/stores per quad) and the n % 4 tail is scalar; otherwise every element is scalar. The
// grid-stride loop runs over quads, so the contract launches ceil(n/4/256) (≤ 4096) blocks.
extern "C" __global__ void __launch_bounds__(ADV_THREADS)
fgsm_step_f32(float* __restrict__ x, const float* __restrict__ grad, const float* __restrict__ x0,
              const float* __restrict__ lo, const float* __restrict__ hi, float alpha, float eps,
              int channels, int inner, int perChannel, long long n) {
    const float lo0 = __ldg(lo), hi0 = __ldg(hi);
    if (aligned16(x) && aligned16(grad) && aligned16(x0)) {
        const long long quads = n >> 2;
        float4* x4 = reinterpret_cast<float4*>(x);
        const float4* g4 = reinterpret_cast<const float4*>(grad);
        const float4* o4 = reinterpret_cast<const float4*>(x0);
        for (long long q = grid_start(); q < quads; q += grid_stride()) {
            float4 xv = x4[q];
            const float4 gv = __ldg(g4 + q);
            const float4 ov = __ldg(o4 + q);
            if (perChannel) {
                // Channel of the quad's first element, then stepped: a quad may cross a plane.
                int r, c;
                plane_position(q << 2, inner, channels, &r, &c);
                float cl[4], ch[4];
#pragma unroll
                for (int k = 0; k < 4; k++) {
                    cl[k] = __ldg(lo + c);
                    ch[k] = __ldg(hi + c);
                    if (++r == inner) {
                        r = 0;
                        if (++c == channels) c = 0;
                    }
                }
                xv.x = fgsm_one(xv.x, gv.x, ov.x, cl[0], ch[0], alpha, eps);
                xv.y = fgsm_one(xv.y, gv.y, ov.y, cl[1], ch[1], alpha, eps);
                xv.z = fgsm_one(xv.z, gv.z, ov.z, cl[2], ch[2], alpha, eps);
                xv.w = fgsm_one(xv.w, gv.w, ov.w, cl[3], ch[3], alpha, eps);
            } else {
                xv.x = fgsm_one(xv.x, gv.x, ov.x, lo0, hi0, alpha, eps);
                xv.y = fgsm_one(xv.y, gv.y, ov.y, lo0, hi0, alpha, eps);
                xv.z = fgsm_one(xv.z, gv.z, ov.z, lo0, hi0, alpha, eps);
                xv.w = fgsm_one(xv.w, gv.w, ov.w, lo0, hi0, alpha, eps);
            }
            x4[q] = xv;
        }
        const long long i = (quads << 2) + grid_start();
        if (i < n) {
            const int c = perChannel ? channel_of(i, inner, channels) : 0;
            const float l = perChannel ? __ldg(lo + c) : lo0, h = perChannel ? __ldg(hi + c) : hi0;
            x[i] = fgsm_one(x[i], grad[i], x0[i], l, h, alpha, eps);
        }
        return;
    }
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        const int c = perChannel ? channel_of(i, inner, channels) : 0;
        const float l = perChannel ? __ldg(lo + c) : lo0, h = perChannel ? __ldg(hi + c) : hi0;
        x[i] = fgsm_one(x[i], grad[i], x0[i], l, h, alpha, eps);
    }
}
