// Reductions and row selection. Every sum is taken in float64 with a fixed assignment of elements
// to threads and a fixed tree across threads and blocks, so the result depends only on the input
// (never on timing). The order differs from the CPU reference's (blocks of 32768 elements added
// in sequence), so float64 sums agree with the CPU's to rounding (about 1e-16 relative), not bit
// for bit; once rounded to float32 they almost always agree exactly.
#include "common.cuh"

// sum_partials_f32: partials[k] = Σ_{i in slice k} (double) x[i], k = blockIdx.x < 256.
// Launch: EXACTLY 256 blocks × 256 threads (fixed grid: the slices depend on n only).
// Thread t of block k adds the quads (4 consecutive elements) t, t+256, ... of its slice, with a
// float4 load when x is 16-byte aligned; the order is the same either way.
// Shapes: x [n], partials [256]. Bytes: 4n read, 2 KiB written.
extern "C" __global__ void __launch_bounds__(ADV_THREADS)
sum_partials_f32(const float* __restrict__ x, double* __restrict__ partials, long long n) {
    __shared__ double scratch[ADV_THREADS];
    long long begin, end;
    reduce_slice(n, &begin, &end);
    const bool vec = aligned16(x);
    double acc = 0.0;
    for (long long q = begin + 4ll * threadIdx.x; q < end; q += 4ll * ADV_THREADS) {
        if (vec && q + 4 <= end) {
            const float4 v = __ldg(reinterpret_cast<const float4*>(x + q));
            acc += (double)v.x;
            acc += (double)v.y;
            acc += (double)v.z;
            acc += (double)v.w;
        } else {
            for (long long i = q; i < q + 4 && i < end; i++) acc += (double)x[i];
        }
    }
    const double s = block_sum_f64(acc, scratch);
    if (threadIdx.x == 0) partials[blockIdx.x] = s;
}

// sum_finish_f64: out[0] = Σ_{k < count} partials[k], thread t adding k = t, t+256, ... then a
// fixed tree. Launch: 1 block × 256 threads. Bytes: 8·count read, 8 written.
extern "C" __global__ void __launch_bounds__(ADV_THREADS)
sum_finish_f64(const double* __restrict__ partials, int count, double* __restrict__ out) {
    __shared__ double scratch[ADV_THREADS];
    double acc = 0.0;
    for (int k = threadIdx.x; k < count; k += ADV_THREADS) acc += partials[k];
    const double s = block_sum_f64(acc, scratch);
    if (threadIdx.x == 0) out[0] = s;
}

// sum_bias_f32: dbias[c] = (float) Σ_{o, i} (double) dy[o, c, i] (overwrites), the bias gradient.
// Launch: grid = channels, 256 threads; block c reduces channel c.
// Shapes: dy [outer, channels, inner], dbias [channels]. Bytes: 4·outer·channels·inner read.
extern "C" __global__ void __launch_bounds__(ADV_THREADS)
sum_bias_f32(const float* __restrict__ dy, float* __restrict__ dbias, int outer, int channels, int inner) {
    __shared__ double scratch[ADV_THREADS];
    const int c = blockIdx.x;
    const ChannelWalk w = channel_walk(outer, inner);
    long long o = threadIdx.x / inner;
    int i = threadIdx.x % inner;
    double acc = 0.0;
    for (long long j = threadIdx.x; j < w.count; j += ADV_THREADS) {
        acc += (double)dy[(o * channels + c) * inner + i];
        o += w.stepO;
        i += w.stepI;
        if (i >= inner) {
            i -= inner;
            o++;
        }
    }
    const double s = block_sum_f64(acc, scratch);
    if (threadIdx.x == 0) dbias[c] = (float)s;
}

// argmax_rows_f32: out[r] = index of the first maximum of row r, as the CPU's sequential scan
// defines it: start at x[0] and move on only for a strictly greater value. Hence NaN never wins,
// except that a NaN in column 0 makes the answer 0. Each thread scans a strided part of the row;
// the candidates are merged by (larger value, then lower index), which gives the same answer.
// Launch: grid = rows, 256 threads. Shapes: x [rows, cols], out [rows]. Bytes: 4·rows·cols read.
extern "C" __global__ void __launch_bounds__(ADV_THREADS)
argmax_rows_f32(const float* __restrict__ x, int* __restrict__ out, int rows, int cols) {
    __shared__ float bestV[ADV_THREADS];
    __shared__ int bestI[ADV_THREADS];
    const int r = blockIdx.x;
    if (r >= rows) return;
    const float* row = x + (long long)r * cols;
    const int t = threadIdx.x;
    float bv = 0.0f;
    int bi = -1;
    for (int j = t; j < cols; j += ADV_THREADS) {
        const float v = row[j];
        if (v == v && (bi < 0 || v > bv)) {
            bv = v;
            bi = j;
        }
    }
    bestV[t] = bv;
    bestI[t] = bi;
    __syncthreads();
    for (int s = ADV_THREADS / 2; s > 0; s >>= 1) {
        if (t < s) {
            const int oi = bestI[t + s];
            const float ov = bestV[t + s];
            const int mi = bestI[t];
            if (oi >= 0 && (mi < 0 || ov > bestV[t] || (ov == bestV[t] && oi < mi))) {
                bestV[t] = ov;
                bestI[t] = oi;
            }
        }
        __syncthreads();
    }
    if (t == 0) {
        const float first = row[0];
        out[r] = (first != first || bestI[0] < 0) ? 0 : bestI[0];
    }
}

// row_norms_f32: out[r] = (float) √(Σ_j (double) x[r, j]²), the L2 norm of each row.
// Launch: grid = rows, 256 threads; block r sums row r: thread t the columns t, t+256, ..., then a
// fixed tree over the block (deterministic; not the CPU's sequential order, so equal to it to
// float64 rounding before the sqrt). Shapes: x [rows, cols], out [rows]. Bytes: 4·rows·cols read.
extern "C" __global__ void __launch_bounds__(ADV_THREADS)
row_norms_f32(const float* __restrict__ x, float* __restrict__ out, int rows, int cols) {
    __shared__ double scratch[ADV_THREADS];
    const int r = blockIdx.x;
    if (r >= rows) return;
    const float* row = x + (long long)r * cols;
    double acc = 0.0;
    for (int j = threadIdx.x; j < cols; j += ADV_THREADS) {
        const double v = row[j];
        acc += v * v;
    }
    const double s = block_sum_f64(acc, scratch);
    if (threadIdx.x == 0) out[r] = (float)sqrt(s);
}

// row_norms_backward_f32: dx[r, j] = norms[r] > 0 ? dy[r]·x[r, j] / norms[r] : 0, the gradient of
// row_norms_f32 (0 for a row of zeros, where the norm has no gradient). The CPU's float operations
// in the CPU's order. Launch: grid-stride over n = rows·cols. Shapes: x, dx [rows, cols], norms,
// dy [rows]. Bytes: 8 per element (x read, dx written; norms and dy are cached).
extern "C" __global__ void __launch_bounds__(ADV_THREADS)
row_norms_backward_f32(const float* __restrict__ x, const float* __restrict__ norms, const float* __restrict__ dy,
                       float* __restrict__ dx, int cols, long long n) {
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        const long long r = i / cols;
        const float norm = norms[r];
        dx[i] = norm > 0.0f ? dy[r] * x[i] / norm : 0.0f;
    }
}
