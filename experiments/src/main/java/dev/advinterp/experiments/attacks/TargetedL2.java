package dev.advinterp.experiments.attacks;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tape;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.models.ImageModel;

import java.util.function.BiConsumer;

/**
 * The targeted L2 attack of the paper's Eq. 4: {@code argmin_{x*∈[0,1]} ‖x* − x‖₂ + λ·CE(x*, y*)},
 * minimised per image by projected gradient descent with Adam moments (the projection is the clip
 * to [0, 1]), with a search over λ per image: a success halves the gap towards the last failure
 * (bisection), a failure multiplies λ by 10 until a success brackets it. The smallest successful
 * perturbation of all rounds is kept; an image never reached keeps the last iterate and is
 * reported as a failure. Distances inside the objective are in [0, 1] units; reports are in
 * pixel units.
 */
public record TargetedL2(float initialLambda, int searchRounds, int iterations, float learningRate, boolean trainingMode)
        implements Attack {

    public TargetedL2 {
        if (!(initialLambda > 0) || searchRounds <= 0 || iterations <= 0 || !(learningRate > 0)) {
            throw new IllegalArgumentException("targeted L2: λ, rounds, iterations and learning rate must be positive; got λ="
                    + initialLambda + ", rounds=" + searchRounds + ", iterations=" + iterations + ", lr=" + learningRate);
        }
    }

    /** λ starts at 1, 5 rounds of 100 Adam steps at learning rate 0.01. */
    public static TargetedL2 defaults() {
        return new TargetedL2(1f, 5, 100, 0.01f, false);
    }

    @Override
    public String name() {
        return "targeted-l2(lambda0=" + initialLambda + ",rounds=" + searchRounds + ",iterations=" + iterations + ")";
    }

    @Override
    public boolean targeted() {
        return true;
    }

    @Override
    public Tensor perturb(ImageModel model, Tensor images, int[] targets) {
        return perturb(model, images, targets, (lambda, hit) -> { });
    }

    /**
     * {@link #perturb}, telling {@code rounds} after each round of the search the λ it used and
     * whether it reached the target, per image (copies), so that the search can be checked.
     */
    Tensor perturb(ImageModel model, Tensor images, int[] targets, BiConsumer<double[], boolean[]> rounds) {
        int n = images.dim(0), per = (int) (images.numel() / n), classes = model.config().classes();
        for (int t : targets) {
            if (t < 0 || t >= classes) throw new IllegalArgumentException("targeted L2: target " + t + " outside [0, " + classes + ")");
        }
        float[] x0 = images.toArray();
        float[] best = x0.clone(), last = x0.clone();
        double[] bestDist = new double[n];
        java.util.Arrays.fill(bestDist, Double.POSITIVE_INFINITY);
        double[] lambda = new double[n], lower = new double[n], upper = new double[n];
        java.util.Arrays.fill(lambda, initialLambda);
        java.util.Arrays.fill(upper, Double.POSITIVE_INFINITY);
        try (var mode = model.inMode(trainingMode)) {
            for (int round = 0; round < searchRounds; round++) {
                float[] x = x0.clone(), m = new float[x.length], v = new float[x.length];
                boolean[] hit = new boolean[n];
                for (int it = 0; it <= iterations; it++) {
                    float[] g;
                    int[] pred;
                    try (Scope s = Scope.open(); Tape tape = Tape.start()) {
                        Tensor cur = tape.watch(Tensor.of(x, images.shape().dims()));
                        Tensor logits = model.call(cur);
                        pred = Ops.argmax(logits);
                        g = it < iterations ? tape.gradients(Ops.softmaxCrossEntropy(logits, targets), cur).of(cur).toArray() : null;
                    }
                    // the iterate just evaluated: keep it if it reaches the target closer than before
                    for (int i = 0; i < n; i++) {
                        if (pred[i] != targets[i]) continue;
                        hit[i] = true;
                        double d = dist(x, x0, i * per, per);
                        if (d < bestDist[i]) {
                            bestDist[i] = d;
                            System.arraycopy(x, i * per, best, i * per, per);
                        }
                    }
                    if (g == null) break;
                    adamStep(x, x0, g, m, v, it + 1, lambda, n, per);
                }
                System.arraycopy(x, 0, last, 0, x.length);
                rounds.accept(lambda.clone(), hit.clone());
                for (int i = 0; i < n; i++) {
                    if (hit[i]) {
                        upper[i] = Math.min(upper[i], lambda[i]);
                        lambda[i] = (lower[i] + upper[i]) / 2;
                    } else {
                        lower[i] = Math.max(lower[i], lambda[i]);
                        lambda[i] = Double.isInfinite(upper[i]) ? lambda[i] * 10 : (lower[i] + upper[i]) / 2;
                    }
                }
            }
        }
        float[] out = best.clone();
        for (int i = 0; i < n; i++) {
            if (Double.isInfinite(bestDist[i])) System.arraycopy(last, i * per, out, i * per, per);
        }
        try (Scope s = Scope.open()) {
            return s.keep(Tensor.of(out, images.shape().dims()));
        }
    }

    private static double dist(float[] x, float[] x0, int off, int len) {
        double s = 0;
        for (int j = 0; j < len; j++) {
            double d = x[off + j] - x0[off + j];
            s += d * d;
        }
        return Math.sqrt(s);
    }

    /**
     * One Adam step on each image's objective ‖x − x0‖₂ + λᵢ·CEᵢ: the mean-CE gradient of the batch is
     * scaled back to per-image CE (×n); ∇‖δ‖₂ = δ/‖δ‖ (0 at δ = 0). Then the clip to [0, 1].
     * {@code x}, {@code m} and {@code v} are updated in place; {@code t} counts from 1. Package-private
     * so that a step can be checked on its own from a given state.
     */
    void adamStep(float[] x, float[] x0, float[] g, float[] m, float[] v, int t, double[] lambda, int n, int per) {
        final double b1 = 0.9, b2 = 0.999, epsAdam = 1e-8;
        double c1 = 1 - Math.pow(b1, t), c2 = 1 - Math.pow(b2, t);
        for (int i = 0; i < n; i++) {
            int off = i * per;
            double norm = dist(x, x0, off, per);
            for (int j = 0; j < per; j++) {
                double grad = lambda[i] * n * g[off + j] + (norm > 0 ? (x[off + j] - x0[off + j]) / norm : 0);
                m[off + j] = (float) (b1 * m[off + j] + (1 - b1) * grad);
                v[off + j] = (float) (b2 * v[off + j] + (1 - b2) * grad * grad);
                double step = learningRate * (m[off + j] / c1) / (Math.sqrt(v[off + j] / c2) + epsAdam);
                x[off + j] = PgdL2.clip01((float) (x[off + j] - step));
            }
        }
    }
}
