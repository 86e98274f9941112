package dev.advinterp.experiments.attacks;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.models.ImageModel;

/**
 * Per image: the adversarial image, the class the model now predicts, whether the attack
 * succeeded (a non-targeted attack: prediction ≠ label; a targeted one: prediction = target), the
 * L2 and L∞ distances to the clean image in pixel units of 1/255, and the softmax confidence of
 * the prediction.
 */
public record AttackResult(Tensor adversarial, int[] predicted, boolean[] success, float[] l2, float[] linf, float[] confidence) {

    public int size() {
        return predicted.length;
    }

    public double successRate() {
        int s = 0;
        for (boolean b : success) if (b) s++;
        return (double) s / success.length;
    }

    static AttackResult measure(ImageModel model, Tensor clean, Tensor adv, int[] labels, boolean targeted) {
        int n = clean.dim(0);
        int per = (int) (clean.numel() / n);
        float[] x = clean.toArray(), a = adv.toArray();
        float[] l2 = new float[n], linf = new float[n];
        for (int i = 0; i < n; i++) {
            double s = 0, m = 0;
            for (int j = 0; j < per; j++) {
                double d = PixelUnits.toPixels(a[i * per + j] - x[i * per + j]);
                s += d * d;
                m = Math.max(m, Math.abs(d));
            }
            l2[i] = (float) Math.sqrt(s);
            linf[i] = (float) m;
        }
        int[] pred;
        float[] conf = new float[n];
        try (var mode = model.inMode(false); Scope s = Scope.open()) {
            Tensor logits = model.call(adv);
            pred = Ops.argmax(logits);
            float[] z = logits.toArray();
            int k = logits.dim(1);
            for (int i = 0; i < n; i++) {
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int j = 0; j < k; j++) max = Math.max(max, z[i * k + j]);
                for (int j = 0; j < k; j++) sum += Math.exp(z[i * k + j] - max);
                conf[i] = (float) (1.0 / sum);
            }
        }
        boolean[] success = new boolean[n];
        for (int i = 0; i < n; i++) success[i] = targeted ? pred[i] == labels[i] : pred[i] != labels[i];
        return new AttackResult(adv, pred, success, l2, linf, conf);
    }
}
