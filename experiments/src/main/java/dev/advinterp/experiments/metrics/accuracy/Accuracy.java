package dev.advinterp.experiments.metrics.accuracy;

import dev.advinterp.experiments.activations.Recording;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Table 3 of the paper for one model: top-1 and top-5 accuracy on the clean images and on their
 * adversarial versions (each adversarial image labelled with its clean image's class).
 *
 * @param attack the attack that made the adversarial images, e.g. "fgsm(eps=1.0)"
 */
public record Accuracy(String attack, int images, int top1, int top5, int adversarialTop1, int adversarialTop5) {

    /** Counts the recorded predictions. */
    public static Accuracy of(String attack, List<Recording.Image> images) {
        int t1 = 0, t5 = 0, a1 = 0, a5 = 0;
        for (Recording.Image im : images) {
            if (im.clean().inTop(im.label(), 1)) t1++;
            if (im.clean().inTop(im.label(), 5)) t5++;
            if (im.adversarial().inTop(im.label(), 1)) a1++;
            if (im.adversarial().inTop(im.label(), 5)) a5++;
        }
        return new Accuracy(attack, images.size(), t1, t5, a1, a5);
    }

    private double rate(int n) {
        return images == 0 ? Double.NaN : (double) n / images;
    }

    public double top1Rate() {
        return rate(top1);
    }

    public double top5Rate() {
        return rate(top5);
    }

    public double adversarialTop1Rate() {
        return rate(adversarialTop1);
    }

    public double adversarialTop5Rate() {
        return rate(adversarialTop5);
    }

    public Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("attack", attack);
        m.put("images", images);
        m.put("top1", top1Rate());
        m.put("top5", top5Rate());
        m.put("adversarial_top1", adversarialTop1Rate());
        m.put("adversarial_top5", adversarialTop5Rate());
        return m;
    }

    public static final List<String> CSV_HEADER = List.of("images", "attack", "top1", "top5", "adversarial_top1", "adversarial_top5");

    public List<Object> csv() {
        return List.of(images, attack, pct(top1Rate()), pct(top5Rate()), pct(adversarialTop1Rate()), pct(adversarialTop5Rate()));
    }

    private static String pct(double r) {
        return String.format(Locale.ROOT, "%.4f", r);
    }

    public String describe() {
        return String.format(Locale.ROOT, "%d images: top-1 %.2f%%, top-5 %.2f%% clean; top-1 %.2f%%, top-5 %.2f%% under %s",
                images, 100 * top1Rate(), 100 * top5Rate(), 100 * adversarialTop1Rate(), 100 * adversarialTop5Rate(), attack);
    }
}
