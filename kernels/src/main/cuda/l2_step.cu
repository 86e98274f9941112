// The steps of the L2 attacks, one block per row (an image of the batch) in place: PGD's
// normalised step with its projection onto the ε-ball, and Adam on ‖x − x0‖₂ + w·f. Each needs
// its row's norms before it can move an element, so a row is one block: the norms are float64
// sums in a fixed tree (deterministic; not the CPU's sequential order, so equal to it to float64
// rounding), and every elementwise operation is the CPU reference's, operation for operation,
// with its float and double roundings where the CPU has them.
#include "common.cuh"

// l2_step_f32: per row r of x [rows, cols]: x ← x + (float)((α·g)/‖g‖) (no move where ‖g‖ = 0),
// then x ← clip((float)(x0 + (x − x0)·min(1, ε/‖x − x0‖)), lo, hi): PGD in the L2 norm.
// α·g is a float product, as in the CPU's loop; x − x0 a float difference widened to double.
// Launch: grid = rows, 256 threads. Shapes: x, grad, x0 [rows, cols].
// Bytes: per element 4 (g) twice, x read twice and written twice, x0 read twice: 28.
extern "C" __global__ void __launch_bounds__(ADV_THREADS)
l2_step_f32(float* __restrict__ x, const float* __restrict__ grad, const float* __restrict__ x0, float alpha, float eps,
            float lo, float hi, int rows, int cols) {
    __shared__ double scratch[ADV_THREADS];
    const int r = blockIdx.x;
    if (r >= rows) return;
    const long long base = (long long)r * cols;
    double acc = 0.0;
    // the loops stay rolled: unrolled around the IEEE division's slow path they spill registers
#pragma unroll 1
    for (int j = threadIdx.x; j < cols; j += ADV_THREADS) {
        const double g = grad[base + j];
        acc += g * g;
    }
    const double gn = sqrt(block_sum_f64(acc, scratch));
    acc = 0.0;
#pragma unroll 1
    for (int j = threadIdx.x; j < cols; j += ADV_THREADS) {
        const long long i = base + j;
        float v = x[i];
        if (gn > 0.0) v += (float)((alpha * grad[i]) / gn);
        x[i] = v;
        const double d = v - x0[i];
        acc += d * d;
    }
    const double dn = sqrt(block_sum_f64(acc, scratch));
    const double f = dn > eps ? eps / dn : 1.0;
    // each thread reads back only the elements it wrote above
#pragma unroll 1
    for (int j = threadIdx.x; j < cols; j += ADV_THREADS) {
        const long long i = base + j;
        const float o = x0[i];
        const float v = (float)(o + (x[i] - o) * f);
        x[i] = java_minf(hi, java_maxf(lo, v));
    }
}

// l2_adam_step_f32: one Adam step, per row r, on the objective ‖x − x0‖₂ + w[r]·f(x) given
// grad = ∇f, then the clip to [lo, hi] (the targeted L2 attack's step):
//   g = w[r]·grad + (x − x0)/‖x − x0‖ (the second term 0 at x = x0), in double;
//   m ← (float)(β1·m + (1 − β1)·g); v ← (float)(β2·v + (1 − β2)·g·g);
//   x ← clip((float)(x − lr·(m/c1)/(√(v/c2) + ε)), lo, hi), c1 = 1 − β1^t, c2 = 1 − β2^t (given).
// Launch: grid = rows, 256 threads. Shapes: x, grad, x0, m, v [rows, cols], w [rows] (double).
// Bytes: per element x read twice and written once, x0 twice, grad, m and v read and m, v written: 40.
extern "C" __global__ void __launch_bounds__(ADV_THREADS)
l2_adam_step_f32(float* __restrict__ x, const float* __restrict__ grad, const float* __restrict__ x0, float* __restrict__ m,
                 float* __restrict__ v, const double* __restrict__ w, float lr, double beta1, double beta2, double epsilon,
                 double c1, double c2, float lo, float hi, int rows, int cols) {
    __shared__ double scratch[ADV_THREADS];
    const int r = blockIdx.x;
    if (r >= rows) return;
    const long long base = (long long)r * cols;
    double acc = 0.0;
    for (int j = threadIdx.x; j < cols; j += ADV_THREADS) {
        const double d = x[base + j] - x0[base + j];
        acc += d * d;
    }
    const double norm = sqrt(block_sum_f64(acc, scratch));
    const double weight = w[r];
    for (int j = threadIdx.x; j < cols; j += ADV_THREADS) {
        const long long i = base + j;
        const float xv = x[i];
        const double g = weight * grad[i] + (norm > 0.0 ? (xv - x0[i]) / norm : 0.0);
        const float mv = (float)(beta1 * m[i] + (1.0 - beta1) * g);
        const float vv = (float)(beta2 * v[i] + (1.0 - beta2) * g * g);
        m[i] = mv;
        v[i] = vv;
        const double step = lr * (mv / c1) / (sqrt(vv / c2) + epsilon);
        x[i] = java_minf(hi, java_maxf(lo, (float)(xv - step)));
    }
}
