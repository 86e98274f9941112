// PyTorch's adaptive average pooling (the CPU reference is CpuPool.adaptiveAvg*): output bin
// (oy, ox) of an h×w plane covers rows [floor(oy·h/oh), ceil((oy+1)·h/oh)) and the same for
// columns. Max and fixed-window average pooling go through cuDNN.
#include "common.cuh"

static __device__ __forceinline__ int bin_start(int i, int in, int out) {
    return (int)(((long long)i * in) / out);
}

static __device__ __forceinline__ int bin_end(int i, int in, int out) {
    return (int)(((long long)(i + 1) * in + out - 1) / out);
}

// adaptive_avg_pool_forward_f32: y[p, oy, ox] = (Σ_{iy, ix in the bin} x[p, iy, ix]) / bin area,
// summed in float row by row as the CPU does (bit-identical). One thread per output element,
// grid-stride over planes·oh·ow (256 threads, any grid).
// Shapes: x [planes, h, w], y [planes, oh, ow]. Bytes: 4·planes·h·w read (once when bins do not
// overlap), 4·planes·oh·ow written.
extern "C" __global__ void __launch_bounds__(ADV_THREADS)
adaptive_avg_pool_forward_f32(const float* __restrict__ x, float* __restrict__ y, int planes, int h, int w, int oh,
                              int ow) {
    const long long total = (long long)planes * oh * ow;
    for (long long k = grid_start(); k < total; k += grid_stride()) {
        const int ox = (int)(k % ow);
        const long long rest = k / ow;
        const int oy = (int)(rest % oh);
        const long long p = rest / oh;
        const int y0 = bin_start(oy, h, oh), y1 = bin_end(oy, h, oh);
        const int x0 = bin_start(ox, w, ow), x1 = bin_end(ox, w, ow);
        const float* plane = x + p * h * w;
        float acc = 0.0f;
        for (int iy = y0; iy < y1; iy++) {
            for (int ix = x0; ix < x1; ix++) acc += plane[(long long)iy * w + ix];
        }
        y[k] = acc / (float)((y1 - y0) * (x1 - x0));
    }
}

// adaptive_avg_pool_backward_f32: dx[p, iy, ix] = Σ over the bins (oy, ox) that contain (iy, ix)
// of dy[p, oy, ox] / bin area. Gather form (each thread owns one dx element, no atomics), adding
// in the CPU's scatter order (oy, then ox, ascending), so the result is deterministic and
// bit-identical to the CPU's. The bins holding row iy are oy in [floor(iy·oh/h), …] while
// bin_start(oy) ≤ iy. Grid-stride over planes·h·w (256 threads, any grid).
// Shapes: dy [planes, oh, ow], dx [planes, h, w] (overwritten). Bytes: 4·planes·h·w written,
// dy read about once per overlapping bin (from cache).
extern "C" __global__ void __launch_bounds__(ADV_THREADS)
adaptive_avg_pool_backward_f32(const float* __restrict__ dy, float* __restrict__ dx, int planes, int h, int w,
                               int oh, int ow) {
    const long long total = (long long)planes * h * w;
    for (long long k = grid_start(); k < total; k += grid_stride()) {
        const int ix = (int)(k % w);
        const long long rest = k / w;
        const int iy = (int)(rest % h);
        const long long p = rest / h;
        const float* plane = dy + p * oh * ow;
        float acc = 0.0f;
        for (int oy = (int)(((long long)iy * oh) / h); oy < oh && bin_start(oy, h, oh) <= iy; oy++) {
            const int y0 = bin_start(oy, h, oh), y1 = bin_end(oy, h, oh);
            if (iy >= y1) continue;
            for (int ox = (int)(((long long)ix * ow) / w); ox < ow && bin_start(ox, w, ow) <= ix; ox++) {
                const int x0 = bin_start(ox, w, ow), x1 = bin_end(ox, w, ow);
                if (ix >= x1) continue;
                acc += plane[(long long)oy * ow + ox] / (float)((y1 - y0) * (x1 - x0));
            }
        }
        dx[k] = acc;
    }
}
