package dev.advinterp.experiments.data.broden;

import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.experiments.data.Sample;

import java.util.List;
import java.util.SplittableRandom;

/**
 * The images of a Broden folder (all of them, or a split) as a {@link Dataset} for the passes of
 * network dissection: in index order, each image labelled with its class where the folder has
 * classes (0 otherwise; dissection uses no labels), an unreadable image marked as such rather than
 * replaced, so that image i's activations are always scored against image i's masks.
 */
public final class BrodenImages implements Dataset {
    private final BrodenDataset broden;
    private final int[] indices;
    private final int h, w;
    private final String name;

    BrodenImages(BrodenDataset broden, int[] indices, int h, int w, String name) {
        this.broden = broden;
        this.indices = indices;
        this.h = h;
        this.w = w;
        this.name = name;
    }

    /** The first {@code n} images. */
    public BrodenImages first(int n) {
        return new BrodenImages(broden, java.util.Arrays.copyOf(indices, Math.min(n, indices.length)), h, w, name + "[:" + n + "]");
    }

    public BrodenDataset broden() {
        return broden;
    }

    /** The index in the Broden folder's index.csv of sample {@code i}. */
    public int entry(int i) {
        return indices[i];
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int size() {
        return indices.length;
    }

    @Override
    public List<String> classes() {
        return broden.classes().isEmpty() ? List.of("none") : broden.classes().stream().map(c -> c.wnid()).toList();
    }

    @Override
    public int channels() {
        return 3;
    }

    @Override
    public int height() {
        return h;
    }

    @Override
    public int width() {
        return w;
    }

    @Override
    public Sample get(int index, SplittableRandom random) {
        int e = indices[index];
        int label = broden.classes().isEmpty() ? 0 : broden.imageClass(e);
        return broden.pixels(e).map(p -> new Sample(p, label, 3, h, w))
                .orElseGet(() -> Sample.unreadable(label, 3, h, w, broden.directory().resolve("images").resolve(broden.entry(e).image()) + " cannot be read"));
    }

    @Override
    public long skipped() {
        return broden.skipped();
    }
}
