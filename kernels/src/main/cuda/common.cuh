// Shared helpers of the advinterp kernels. Included once per family file; the build compiles all
// families as one translation unit, so everything here is static __device__ __forceinline__.
#pragma once

// Every kernel is launched with 256 threads per block (the contract's launch rules); the reduction
// kernels rely on exactly that. Declaring it lets ptxas budget up to 255 registers per thread and
// makes a launch with more threads fail with an error instead of misbehaving.
#define ADV_THREADS 256

// Java's Math.max / Math.min on floats: NaN if either argument is NaN, and +0 is above -0.
// fmaxf/fminf would return the other argument for a NaN, which the CPU reference does not.
static __device__ __forceinline__ float java_maxf(float a, float b) {
    if (a != a) return a;
    if (b != b) return b;
    if (a == 0.0f && b == 0.0f) return __int_as_float(__float_as_int(a) & __float_as_int(b));
    return a > b ? a : b;
}

static __device__ __forceinline__ float java_minf(float a, float b) {
    if (a != a) return a;
    if (b != b) return b;
    if (a == 0.0f && b == 0.0f) return __int_as_float(__float_as_int(a) | __float_as_int(b));
    return a < b ? a : b;
}

// The channel of flat element i of a tensor viewed as [outer, channels, inner]. 64-bit division
// is a long software routine on the GPU; tensors below 2^32 elements take the 32-bit one.
static __device__ __forceinline__ int channel_of(long long i, int inner, int channels) {
    if ((unsigned long long)i <= 0xffffffffull) {
        return (int)(((unsigned)i / (unsigned)inner) % (unsigned)channels);
    }
    return (int)((i / inner) % channels);
}

// Element i of [outer, channels, inner] sits at offset *r of its plane, whose channel is *c.
static __device__ __forceinline__ void plane_position(long long i, int inner, int channels, int* r, int* c) {
    if ((unsigned long long)i <= 0xffffffffull) {
        const unsigned plane = (unsigned)i / (unsigned)inner;
        *r = (int)((unsigned)i - plane * (unsigned)inner);
        *c = (int)(plane % (unsigned)channels);
    } else {
        const long long plane = i / inner;
        *r = (int)(i - plane * inner);
        *c = (int)(plane % channels);
    }
}

static __device__ __forceinline__ long long grid_start() {
    return (long long)blockIdx.x * blockDim.x + threadIdx.x;
}

static __device__ __forceinline__ long long grid_stride() {
    return (long long)gridDim.x * blockDim.x;
}

// True when every pointer is 16-byte aligned, so float4 accesses are legal.
static __device__ __forceinline__ bool aligned16(const void* p) {
    return ((unsigned long long)p & 15ull) == 0;
}

// Combines one value per thread over a block of ADV_THREADS threads in a fixed tree order (the
// result depends only on the inputs, never on timing) and returns it to every thread. `scratch`
// holds ADV_THREADS values; it may be reused after the call returns (the call ends with a barrier).
template <typename T, typename Combine>
static __device__ __forceinline__ T block_reduce(T v, T* scratch, Combine combine) {
    const int t = threadIdx.x;
    scratch[t] = v;
    __syncthreads();
#pragma unroll
    for (int s = ADV_THREADS / 2; s > 0; s >>= 1) {
        if (t < s) scratch[t] = combine(scratch[t], scratch[t + s]);
        __syncthreads();
    }
    const T r = scratch[0];
    __syncthreads();
    return r;
}

struct AddF64 {
    __device__ double operator()(double a, double b) const { return a + b; }
};

struct JavaMaxF32 {
    __device__ float operator()(float a, float b) const { return java_maxf(a, b); }
};

static __device__ __forceinline__ double block_sum_f64(double v, double* scratch) {
    return block_reduce(v, scratch, AddF64());
}

// The fixed-grid reductions (sum_partials_f32, feature_matching_f32) run EXACTLY this many blocks
// of ADV_THREADS threads: block k owns slice k of the input, so partials[k] and the final sum
// depend on n and the data only.
#define ADV_REDUCE_BLOCKS 256

// Block k of ADV_REDUCE_BLOCKS owns [begin, end): slices of a multiple of 4 elements, so that a
// slice of 16-byte-aligned data starts 16-byte-aligned.
static __device__ __forceinline__ void reduce_slice(long long n, long long* begin, long long* end) {
    long long chunk = (n + ADV_REDUCE_BLOCKS - 1) / ADV_REDUCE_BLOCKS;
    chunk = (chunk + 3) & ~3ll;
    long long b = chunk * blockIdx.x;
    long long e = b + chunk;
    *begin = b < n ? b : n;
    *end = e < n ? e : n;
}

// For the per-channel reductions over [outer, channels, inner] (one block per channel): thread t
// visits the channel's elements j = t, t + 256, ... of outer·inner in order, tracking (o, i) with
// j = o·inner + i incrementally instead of dividing for every element.
struct ChannelWalk {
    long long count;  // outer·inner
    int stepO, stepI; // ADV_THREADS = stepO·inner + stepI
};

static __device__ __forceinline__ ChannelWalk channel_walk(int outer, int inner) {
    ChannelWalk w;
    w.count = (long long)outer * inner;
    w.stepO = ADV_THREADS / inner;
    w.stepI = ADV_THREADS % inner;
    return w;
}
