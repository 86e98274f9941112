package dev.advinterp.experiments.data.broden;

import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.experiments.data.Sample;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The images of one split of a Broden folder with classes, as {@link Dataset} for training and
 * evaluation: {@link BrodenImages}' evaluation reads (an unreadable image marked), and for training
 * an unreadable image replaced by the next readable one of the split.
 */
final class BrodenClassification implements Dataset {
    private final BrodenImages images;
    private final Set<Integer> replaced = ConcurrentHashMap.newKeySet();

    BrodenClassification(BrodenImages images) {
        this.images = images;
    }

    @Override
    public String name() {
        return images.name();
    }

    @Override
    public int size() {
        return images.size();
    }

    @Override
    public List<String> classes() {
        return images.classes();
    }

    @Override
    public int channels() {
        return 3;
    }

    @Override
    public int height() {
        return images.height();
    }

    @Override
    public int width() {
        return images.width();
    }

    /** No random preprocessing of its own: the images are already at the model's size; augmentations come from the loader. */
    @Override
    public Sample get(int index, SplittableRandom random) {
        if (random == null) {
            Sample s = images.get(index, null);
            if (!s.readable()) replaced.add(index);
            return s;
        }
        BrodenDataset broden = images.broden();
        for (int k = 0; k < images.size(); k++) {
            int j = (index + k) % images.size();
            Optional<float[]> pixels = broden.pixels(images.entry(j));
            if (pixels.isPresent()) return new Sample(pixels.get(), broden.imageClass(images.entry(j)), 3, height(), width());
            replaced.add(j);
        }
        throw new IllegalStateException(name() + ": no image of this split can be read (see the warnings above)");
    }

    @Override
    public long skipped() {
        return replaced.size();
    }
}
