package dev.advinterp.experiments.data.broden;

import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.experiments.data.Sample;
import dev.advinterp.experiments.data.WordNetClass;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

/** The images of one split of a Broden folder with classes, as {@link Dataset} for training and evaluation. */
final class BrodenClassification implements Dataset {
    private final BrodenDataset broden;
    private final String name;
    private final int[] indices;
    private final int h, w;
    private final List<String> wnids;
    private final Set<Integer> replaced = ConcurrentHashMap.newKeySet();

    BrodenClassification(BrodenDataset broden, String name, int[] indices, int h, int w) {
        this.broden = broden;
        this.name = name;
        this.indices = indices;
        this.h = h;
        this.w = w;
        this.wnids = broden.classes().stream().map(WordNetClass::wnid).toList();
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
        return wnids;
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

    /** No random preprocessing of its own: the images are already at the model's size; augmentations come from the loader. */
    @Override
    public Sample get(int index, SplittableRandom random) {
        for (int k = 0; k < indices.length; k++) {
            int j = (index + k) % indices.length;
            Optional<float[]> pixels = broden.pixels(indices[j]);
            if (pixels.isPresent()) return new Sample(pixels.get(), broden.imageClass(indices[j]), 3, h, w);
            replaced.add(j);
        }
        throw new IllegalStateException(name + ": no image of this split can be read (see the warnings above)");
    }

    @Override
    public long skipped() {
        return replaced.size();
    }
}
