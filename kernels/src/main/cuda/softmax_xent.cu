// Softmax cross-entropy, loss and logits gradient in one kernel: one block per row, the row read
// from DRAM once (its later passes hit L1/L2, a 1000-class row being 4 KB), as llm.c's fused
// classifier does.
//
// exp and log are taken in float64, as the CPU reference takes them (Math.exp/Math.log on
// float differences widened to double): the loss and the gradient then agree with the CPU to
// float64 rounding before their final rounding to float32. FP64 runs at half the FP32 rate on
// A100 and H100, and the kernel moves 8 bytes per logit, so the cost is small against memory.
#include "common.cuh"

// softmax_xent_f32, row r = blockIdx.x, label y = labels[r]:
//   m = max_j x[r, j];  lse = m + log Σ_j exp(x[r, j] − m);  rowLoss[r] = lse − x[r, y]
//   grad[r, j] = gradScale·(exp(x[r, j] − lse) − [j == y])        (when grad is not NULL)
// gradScale already includes 1/rows (the host passes the CPU's float gradScale/rows). A NaN
// logit makes the row's loss NaN (and its gradient NaN, since m is then NaN). A label outside
// [0, cols) also gives a NaN loss and gradient row; the host checks labels before the launch.
// Launch: grid = rows, 256 threads. Shapes: logits, grad [rows, cols]; labels, rowLoss [rows].
// Bytes: 4·cols read from DRAM (three passes, two of them from cache) + 4·cols written + 8 per row.
extern "C" __global__ void __launch_bounds__(ADV_THREADS)
softmax_xent_f32(const float* __restrict__ logits, const int* __restrict__ labels, float* __restrict__ grad,
                 float* __restrict__ rowLoss, int rows, int cols, float gradScale) {
    __shared__ double scratch[ADV_THREADS];
    const int r = blockIdx.x;
    if (r >= rows) return;
    const long long base = (long long)r * cols;
    const float* x = logits + base;
    const int t = threadIdx.x;

    float m = -INFINITY;
    for (int j = t; j < cols; j += ADV_THREADS) m = java_maxf(m, x[j]);
    m = block_reduce(m, reinterpret_cast<float*>(scratch), JavaMaxF32());

    double z = 0.0;
    for (int j = t; j < cols; j += ADV_THREADS) z += exp((double)(x[j] - m));
    z = block_sum_f64(z, scratch);
    const double lse = (double)m + log(z);

    const int label = labels[r];
    const bool labelOk = label >= 0 && label < cols;
    if (t == 0) {
        // m is NaN exactly when the row holds a NaN, and then so is lse.
        rowLoss[r] = labelOk ? (float)(lse - (double)x[label]) : __int_as_float(0x7fc00000);
    }
    if (grad == nullptr) return;
    const double gs = labelOk ? (double)gradScale : (double)__int_as_float(0x7fc00000);
    float* g = grad + base;
    for (int j = t; j < cols; j += ADV_THREADS) {
        const double p = exp((double)x[j] - lse);
        g[j] = (float)((p - (j == label ? 1.0 : 0.0)) * gs);
    }
}
