// Host stand-ins for the CUDA built-ins the kernels use, so that kernels/src/main/cuda/*.cu
// compile with a C++ compiler and run on the CPU (see host_launch.cpp for how a launch runs).
// This is a test harness, not a second implementation: the kernel sources are compiled unchanged.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __restrict__ __restrict
// Blocks run one after another on one OS thread, and the threads of a block are fibers of that
// thread, so a function-local static is exactly "one copy per block, shared by its threads". All
// of them sit in one section, which the launcher fills with 0xff bytes (NaN as float or double, -1
// as int) before every block, so that a kernel reading shared memory it has not written in this
// block sees garbage, as it could on a GPU, instead of a previous block's values.
#define __shared__ static __attribute__((section("adv_shared")))

struct adv_uint3 {
    unsigned x, y, z;
};

extern "C" {
extern adv_uint3 threadIdx, blockIdx, blockDim, gridDim;
void adv_host_syncthreads(void);
}

static inline void __syncthreads() {
    adv_host_syncthreads();
}

struct alignas(16) float4 {
    float x, y, z, w;
};

static inline float4 make_float4(float x, float y, float z, float w) {
    return float4{x, y, z, w};
}

template <typename T>
static inline T __ldg(const T* p) {
    return *p;
}

static inline float __int_as_float(int i) {
    float f;
    std::memcpy(&f, &i, sizeof f);
    return f;
}

static inline int __float_as_int(float f) {
    int i;
    std::memcpy(&i, &f, sizeof i);
    return i;
}
