package dev.advinterp.experiments.activations;

import java.util.Arrays;
import java.util.Locale;
import java.util.StringJoiner;

/**
 * A model's top classes for one image, most probable first, with their softmax probabilities.
 *
 * @param classes       class indices, most probable first
 * @param probabilities their softmax probabilities
 */
public record Prediction(int[] classes, float[] probabilities) {
    public Prediction {
        if (classes.length != probabilities.length || classes.length == 0) {
            throw new IllegalArgumentException("a prediction needs as many classes as probabilities, at least one");
        }
        classes = classes.clone();
        probabilities = probabilities.clone();
    }

    /** The top {@code k} classes of each row of {@code logits} ({@code [n, classes]}, row-major), with softmax probabilities. */
    public static Prediction[] topK(float[] logits, int n, int k) {
        int classes = logits.length / n;
        int kk = Math.min(k, classes);
        Prediction[] out = new Prediction[n];
        for (int i = 0; i < n; i++) {
            int off = i * classes;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < classes; j++) max = Math.max(max, logits[off + j]);
            double sum = 0;
            for (int j = 0; j < classes; j++) sum += Math.exp(logits[off + j] - max);
            int[] top = new int[kk];
            float[] p = new float[kk];
            // Selection by repeated scans: k is 5 and ties go to the lower index, as torch.topk's sorted output does.
            boolean[] taken = new boolean[classes];
            for (int t = 0; t < kk; t++) {
                int best = -1;
                for (int j = 0; j < classes; j++) {
                    if (!taken[j] && (best < 0 || logits[off + j] > logits[off + best])) best = j;
                }
                taken[best] = true;
                top[t] = best;
                p[t] = (float) (Math.exp(logits[off + best] - max) / sum);
            }
            out[i] = new Prediction(top, p);
        }
        return out;
    }

    public int top1() {
        return classes[0];
    }

    /** Whether {@code label} is among the first {@code k} classes. */
    public boolean inTop(int label, int k) {
        for (int i = 0; i < Math.min(k, classes.length); i++) if (classes[i] == label) return true;
        return false;
    }

    /** The classes as {@code 3;7;1}, the field of a CSV. */
    public String classesField() {
        StringJoiner j = new StringJoiner(";");
        for (int c : classes) j.add(Integer.toString(c));
        return j.toString();
    }

    /** The probabilities as {@code 0.912345;0.05;…}. */
    public String probabilitiesField() {
        StringJoiner j = new StringJoiner(";");
        for (float p : probabilities) j.add(String.format(Locale.ROOT, "%.6f", p));
        return j.toString();
    }

    /** Reads the two fields written by {@link #classesField} and {@link #probabilitiesField}. */
    public static Prediction parse(String classes, String probabilities) {
        String[] c = classes.split(";"), p = probabilities.split(";");
        if (c.length != p.length) throw new IllegalArgumentException(c.length + " classes but " + p.length + " probabilities");
        int[] ci = new int[c.length];
        float[] pf = new float[p.length];
        for (int i = 0; i < c.length; i++) {
            ci[i] = Integer.parseInt(c[i].strip());
            pf[i] = Float.parseFloat(p[i].strip());
        }
        return new Prediction(ci, pf);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Prediction p && Arrays.equals(classes, p.classes) && Arrays.equals(probabilities, p.probabilities);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(classes) + Arrays.hashCode(probabilities);
    }
}
