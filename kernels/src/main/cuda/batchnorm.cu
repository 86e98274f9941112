// Batch normalisation in evaluation mode, backward (the statistics are constants there). The
// training-mode kernels and the inference forward go through cuDNN. The CPU reference is
// CpuBatchNorm.inferenceBackward: σ⁻¹ = 1/√(runningVar + ε) in float64.
#include "common.cuh"

// Per-channel scale γ·σ⁻¹ rounded to float as the CPU rounds it.
static __device__ __forceinline__ float bn_scale(const float* gamma, const float* runningVar, float eps, int c) {
    const double invStd = 1.0 / sqrt((double)__ldg(runningVar + c) + (double)eps);
    return (float)((double)__ldg(gamma + c) * invStd);
}

// Channels whose scales are kept in shared memory; wider layers compute the scale per element.
#define BN_SHARED_CHANNELS 2048

// bn_inference_backward_data_f32: dx[o, c, i] = dy[o, c, i] · (float)(γ[c] / √(runningVar[c] + ε)).
// Each block first computes the scales of up to 2048 channels into shared memory (one float64
// sqrt and division per channel per block, instead of per element).
// Shapes: dy, dx [outer, channels, inner] = [n]; gamma, runningVar [channels].
// Bytes: 4n read, 4n written. Launch: elementwise (256 threads, any grid).
extern "C" __global__ void __launch_bounds__(ADV_THREADS)
bn_inference_backward_data_f32(const float* __restrict__ dy, const float* __restrict__ gamma,
                               const float* __restrict__ runningVar, float eps, float* __restrict__ dx, int channels,
                               int inner, long long n) {
    __shared__ float scale[BN_SHARED_CHANNELS];
    const bool shared = channels <= BN_SHARED_CHANNELS;
    if (shared) {
        for (int c = threadIdx.x; c < channels; c += ADV_THREADS) scale[c] = bn_scale(gamma, runningVar, eps, c);
        __syncthreads();
    }
    for (long long i = grid_start(); i < n; i += grid_stride()) {
        const int c = channel_of(i, inner, channels);
        const float s = shared ? scale[c] : bn_scale(gamma, runningVar, eps, c);
        dx[i] = dy[i] * s;
    }
}

// bn_inference_backward_params_f32, channel c = blockIdx.x, μ = runningMean[c]:
//   dgamma[c] = (float)(σ⁻¹ · Σ_{o, i} (double) dy·((double) x − μ)),  dbeta[c] = (float) Σ_{o, i} dy
// (either output may be NULL). Sums in float64, fixed order (deterministic).
// Launch: grid = channels, 256 threads. Shapes: x, dy [outer, channels, inner]; the rest [channels].
// Bytes: 8·outer·channels·inner read, 8·channels written.
extern "C" __global__ void __launch_bounds__(ADV_THREADS)
bn_inference_backward_params_f32(const float* __restrict__ x, const float* __restrict__ dy,
                                 const float* __restrict__ runningMean, const float* __restrict__ runningVar, float eps,
                                 float* __restrict__ dgamma, float* __restrict__ dbeta, int outer, int channels,
                                 int inner) {
    __shared__ double scratch[ADV_THREADS];
    const int c = blockIdx.x;
    const double mean = (double)runningMean[c];
    const ChannelWalk walk = channel_walk(outer, inner);
    long long o = threadIdx.x / inner;
    int i = threadIdx.x % inner;
    double sdy = 0.0, sdyx = 0.0;
    for (long long j = threadIdx.x; j < walk.count; j += ADV_THREADS) {
        const long long k = (o * channels + c) * inner + i;
        const double d = (double)dy[k];
        sdy += d;
        sdyx += d * ((double)x[k] - mean);
        o += walk.stepO;
        i += walk.stepI;
        if (i >= inner) {
            i -= inner;
            o++;
        }
    }
    sdy = block_sum_f64(sdy, scratch);
    sdyx = block_sum_f64(sdyx, scratch);
    if (threadIdx.x == 0) {
        const double invStd = 1.0 / sqrt((double)runningVar[c] + (double)eps);
        if (dgamma != nullptr) dgamma[c] = (float)(sdyx * invStd);
        if (dbeta != nullptr) dbeta[c] = (float)sdy;
    }
}
