// The fused optimiser update.
#include "common.cuh"

// One element of PyTorch's SGD in the CPU reference's order (CpuFused.sgd).
static __device__ __forceinline__ float sgd_one(float pv, float gv, float& b, float lr, float momentum,
                                                float dampening, float wd, int nesterov) {
    float g = gv + wd * pv;
    if (momentum != 0.0f) {
        const float nb = momentum * b + (1.0f - dampening) * g;
        b = nb;
        g = nesterov ? g + momentum * nb : nb;
    }
    return pv - lr * g;
}

static __device__ __forceinline__ void sgd_scalar(float* p, const float* grad, float* buf, bool withBuf, long long i,
                                                  float lr, float momentum, float dampening, float wd, int nesterov) {
    float b = withBuf ? buf[i] : 0.0f;
    p[i] = sgd_one(p[i], grad[i], b, lr, momentum, dampening, wd, nesterov);
    if (withBuf) buf[i] = b;
}

// sgd_momentum_f32, in place:
//   g ← grad + wd·p;  buf ← momentum·buf + (1 − dampening)·g;  p ← p − lr·(nesterov ? g + momentum·buf : buf)
// and with momentum == 0 (buf may be NULL, never touched): p ← p − lr·g.
// Shapes: p, grad, buf [n]. Bytes: with momentum 12n read + 8n written; without 8n read + 4n written.
// Access: float4 quads when p, grad (and buf) are 16-byte aligned, scalar tail; otherwise scalar.
extern "C" __global__ void __launch_bounds__(ADV_THREADS)
sgd_momentum_f32(float* __restrict__ p, const float* __restrict__ grad, float* __restrict__ buf, float lr,
                 float momentum, float dampening, float weightDecay, int nesterov, long long n) {
    const bool withBuf = momentum != 0.0f;
    if (aligned16(p) && aligned16(grad) && (!withBuf || aligned16(buf))) {
        const long long quads = n >> 2;
        float4* p4 = reinterpret_cast<float4*>(p);
        const float4* g4 = reinterpret_cast<const float4*>(grad);
        float4* b4 = reinterpret_cast<float4*>(buf);
        for (long long q = grid_start(); q < quads; q += grid_stride()) {
            float4 pv = p4[q];
            const float4 gv = __ldg(g4 + q);
            float4 bv = withBuf ? b4[q] : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
            pv.x = sgd_one(pv.x, gv.x, bv.x, lr, momentum, dampening, weightDecay, nesterov);
            pv.y = sgd_one(pv.y, gv.y, bv.y, lr, momentum, dampening, weightDecay, nesterov);
            pv.z = sgd_one(pv.z, gv.z, bv.z, lr, momentum, dampening, weightDecay, nesterov);
            pv.w = sgd_one(pv.w, gv.w, bv.w, lr, momentum, dampening, weightDecay, nesterov);
            p4[q] = pv;
            if (withBuf) b4[q] = bv;
        }
        const long long i = (quads << 2) + grid_start();
        if (i < n) sgd_scalar(p, grad, buf, withBuf, i, lr, momentum, dampening, weightDecay, nesterov);
        return;
    }
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        sgd_scalar(p, grad, buf, withBuf, i, lr, momentum, dampening, weightDecay, nesterov);
    }
}
