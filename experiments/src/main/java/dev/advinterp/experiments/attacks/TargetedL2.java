package dev.advinterp.experiments.attacks;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tape;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.models.ImageModel;

import java.util.Arrays;
import java.util.function.BiConsumer;

/**
 * The targeted L2 attack of the paper's Eq. 4: {@code argmin_{x*∈[0,1]} ‖x* − x‖₂ + λ·CE(x*, y*)},
 * minimised per image by projected gradient descent with Adam moments (the projection is the clip
 * to [0, 1]), with a search over λ per image: a success halves the gap towards the last failure
 * (bisection), a failure multiplies λ by 10 until a success brackets it. The smallest successful
 * perturbation of all rounds is kept; an image never reached keeps the last iterate and is
 * reported as a failure. Distances inside the objective are in [0, 1] units; reports are in
 * pixel units. The iterations run on the images' device ({@link Ops#l2AdamStep}).
 */
public record TargetedL2(float initialLambda, int searchRounds, int iterations, float learningRate, boolean trainingMode)
        implements Attack {
    /** Adam's constants, as torch.optim.Adam's defaults. */
    private static final double BETA1 = 0.9, BETA2 = 0.999, EPSILON = 1e-8;


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

    public TargetedL2 withIterations(int n) {
        return new TargetedL2(initialLambda, searchRounds, n, learningRate, trainingMode);
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
        int[] dims = images.shape().dims();
        double[] bestDist = new double[n];
        Arrays.fill(bestDist, Double.POSITIVE_INFINITY);
        double[] lambda = new double[n], lower = new double[n], upper = new double[n];
        Arrays.fill(lambda, initialLambda);
        Arrays.fill(upper, Double.POSITIVE_INFINITY);
        // the iterates, their moments and the best images stay on the images' device; per step only the
        // predictions (and, for the images that reach their target, their distances) come to the host
        try (Scope attack = Scope.open(images.memory()); var mode = model.inMode(trainingMode)) {
            Tensor best = images.copy(), last = images.copy();
            for (int round = 0; round < searchRounds; round++) {
                boolean[] hit = new boolean[n];
                try (Scope r = Scope.open()) {
                    Tensor x = images.copy(), m = Tensor.zeros(dims), v = Tensor.zeros(dims);
                    double[] weights = weights(lambda, n);
                    for (int it = 0; it <= iterations; it++) {
                        try (Scope s = Scope.open(); Tape tape = Tape.start()) {
                            tape.watch(x);
                            Tensor logits = model.call(x);
                            int[] pred = Ops.argmax(logits);
                            // the iterate just evaluated: keep it if it reaches the target closer than before
                            float[] dist = null;
                            for (int i = 0; i < n; i++) {
                                if (pred[i] != targets[i]) continue;
                                hit[i] = true;
                                if (dist == null) dist = Ops.rowNorms(Ops.sub(x, images)).toArray();
                                if (dist[i] < bestDist[i]) {
                                    bestDist[i] = dist[i];
                                    best.copyFrom(x, (long) i * per, (long) i * per, per);
                                }
                            }
                            if (it == iterations) break;
                            Tensor g = tape.gradients(Ops.softmaxCrossEntropy(logits, targets), x).of(x);
                            Ops.l2AdamStep(x, g, images, m, v, weights, it + 1, learningRate, BETA1, BETA2, EPSILON, 0f, 1f);
                        }
                    }
                    last.copyFrom(x);
                }
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
            // an image never reached keeps the last iterate
            for (int i = 0; i < n; i++) {
                if (Double.isInfinite(bestDist[i])) best.copyFrom(last, (long) i * per, (long) i * per, per);
            }
            return attack.keep(best);
        }
    }

    /** The weight of each image's cross-entropy: λᵢ, times n because the batch's loss is the mean of the images'. */
    private static double[] weights(double[] lambda, int n) {
        double[] w = new double[n];
        for (int i = 0; i < n; i++) w[i] = lambda[i] * n;
        return w;
    }

    /**
     * One Adam step ({@link Ops#l2AdamStep}, the step the attack takes on the device) on each image's
     * objective ‖x − x0‖₂ + λᵢ·CEᵢ: the mean-CE gradient of the batch is scaled back to per-image CE
     * (×n); ∇‖δ‖₂ = δ/‖δ‖ (0 at δ = 0). Then the clip to [0, 1]. {@code x}, {@code m} and {@code v}
     * are updated in place; {@code t} counts from 1. On host arrays and package-private so that a
     * step can be checked on its own from a given state.
     */
    void adamStep(float[] x, float[] x0, float[] g, float[] m, float[] v, int t, double[] lambda, int n, int per) {
        try (Scope s = Scope.open()) {
            Tensor tx = Tensor.of(x, n, per), tm = Tensor.of(m, n, per), tv = Tensor.of(v, n, per);
            Ops.l2AdamStep(tx, Tensor.of(g, n, per), Tensor.of(x0, n, per), tm, tv, weights(lambda, n), t, learningRate, BETA1, BETA2,
                    EPSILON, 0f, 1f);
            System.arraycopy(tx.toArray(), 0, x, 0, x.length);
            System.arraycopy(tm.toArray(), 0, m, 0, m.length);
            System.arraycopy(tv.toArray(), 0, v, 0, v.length);
        }
    }
}
