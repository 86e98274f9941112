// Elementwise kernels. Each one is memory-bound: a handful of flops per element against 8 to 12
// bytes of traffic, so they are plain grid-stride loops with coalesced 4-byte accesses and any
// grid works (the contract launches 256 threads × min(ceil(n/256), 4096) blocks). Every formula
// is evaluated in the same order as the CPU reference (CpuElementwise), and the build forbids
// FMA contraction, so each result is bit-identical to the CPU's.
#include "common.cuh"

// fill_f32: x[i] = v for i < n.
// Shapes: x [n]. Bytes: 4n written.
extern "C" __global__ void __launch_bounds__(ADV_THREADS)
fill_f32(float* __restrict__ x, float v, long long n) {
    for (long long i = grid_start(); i < n; i += grid_stride()) x[i] = v;
}

// axpby_f32: out[i] = a·x[i] + b·y[i] (two roundings for the products, one for the sum).
// Shapes: x, y, out [n]; out may alias x or y, so no pointer is __restrict__.
// Bytes: 8n read, 4n written.
extern "C" __global__ void __launch_bounds__(ADV_THREADS)
axpby_f32(float a, const float* x, float b, const float* y, float* out, long long n) {
    for (long long i = grid_start(); i < n; i += grid_stride()) out[i] = a * x[i] + b * y[i];
}

// scale_f32: out[i] = a·x[i]. Shapes: x, out [n] (out may alias x). Bytes: 4n read, 4n written.
extern "C" __global__ void __launch_bounds__(ADV_THREADS)
scale_f32(const float* x, float a, float* out, long long n) {
    for (long long i = grid_start(); i < n; i += grid_stride()) out[i] = a * x[i];
}

// add_bias_f32: y[o, c, i] += bias[c], y viewed as [outer, channels, inner], n = outer·channels·inner.
// Bytes: 4n read + 4n written (bias stays in L1).
extern "C" __global__ void __launch_bounds__(ADV_THREADS)
add_bias_f32(float* __restrict__ y, const float* __restrict__ bias, int channels, int inner, long long n) {
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        y[i] = y[i] + __ldg(bias + channel_of(i, inner, channels));
    }
}

// channel_affine_f32: y[o, c, i] = scale[c]·x[o, c, i] + shift[c], shift NULL meaning 0 (the CPU
// adds 0f too, which turns −0 into +0, so the sum is kept). Shapes: x, y [outer, channels, inner],
// scale, shift [channels]. Bytes: 4n read, 4n written.
extern "C" __global__ void __launch_bounds__(ADV_THREADS)
channel_affine_f32(const float* __restrict__ x, const float* __restrict__ scale, const float* __restrict__ shift,
                   float* __restrict__ y, int channels, int inner, long long n) {
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        const int c = channel_of(i, inner, channels);
        const float b = shift == nullptr ? 0.0f : __ldg(shift + c);
        y[i] = __ldg(scale + c) * x[i] + b;
    }
}

// relu_forward_f32: y[i] = Math.max(0, x[i]) as Java defines it (NaN stays NaN, −0 becomes +0).
// Shapes: x, y [n] (y may alias x). Bytes: 4n read, 4n written.
extern "C" __global__ void __launch_bounds__(ADV_THREADS)
relu_forward_f32(const float* x, float* y, long long n) {
    for (long long i = grid_start(); i < n; i += grid_stride()) y[i] = java_maxf(0.0f, x[i]);
}

// relu_backward_f32: dx[i] = y[i] > 0 ? dy[i] : 0 (the gradient at 0 is 0, as in PyTorch).
// Shapes: y, dy, dx [n] (dx may alias dy). Bytes: 8n read, 4n written.
extern "C" __global__ void __launch_bounds__(ADV_THREADS)
relu_backward_f32(const float* y, const float* dy, float* dx, long long n) {
    for (long long i = grid_start(); i < n; i += grid_stride()) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

// DropoutMask.keep(seed, index, p) of the engine, bit for bit: a SplitMix64 finaliser of
// seed + (index + 1)·φ whose top 24 bits are compared with (int)(p·2^24) (Java's (int) cast of a
// float truncates toward zero, as cvt.rzi does).
static __device__ __forceinline__ bool dropout_keep(unsigned long long seed, long long index, int threshold) {
    unsigned long long z = seed + (unsigned long long)(index + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z = z ^ (z >> 31);
    return (int)(z >> 40) >= threshold;
}

// Inverted dropout with the mask recomputed from (seed, i): out[i] = keep(i) ? in[i]·(1/(1−p)) : 0.
// The backward is the same map applied to dy, which is why both kernels share this body.
static __device__ __forceinline__ void dropout_apply(const float* in, float* out, float p, unsigned long long seed,
                                                     long long n) {
    const float scale = 1.0f / (1.0f - p);
    const int threshold = (int)(p * 16777216.0f);
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        out[i] = dropout_keep(seed, i, threshold) ? in[i] * scale : 0.0f;
    }
}

// dropout_forward_f32: y[i] = keep(seed, i, p) ? x[i]/(1−p) : 0, mask as DropoutMask.keep.
// Shapes: x, y [n]. Bytes: 4n read, 4n written; three 64-bit multiplies per element, hidden by memory.
extern "C" __global__ void __launch_bounds__(ADV_THREADS)
dropout_forward_f32(const float* x, float* y, float p, unsigned long long seed, long long n) {
    dropout_apply(x, y, p, seed, n);
}

// dropout_backward_f32: dx[i] = keep(seed, i, p) ? dy[i]/(1−p) : 0, the same mask as the forward.
// Shapes: dy, dx [n]. Bytes: 4n read, 4n written.
extern "C" __global__ void __launch_bounds__(ADV_THREADS)
dropout_backward_f32(const float* dy, float* dx, float p, unsigned long long seed, long long n) {
    dropout_apply(dy, dx, p, seed, n);
}
