package dev.advinterp.experiments.data;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Labelled images of one split, indexed from 0. Every sample of a dataset has the same channels
 * and size after its own preprocessing ({@link #channels()}, {@link #height()}, {@link #width()}).
 * Implementations must be safe to read from several threads at once (the loader's prefetch
 * threads call {@link #get} concurrently).
 */
public interface Dataset {

    /** A short name for messages and reports (e.g. "fashion-mnist/train"). */
    String name();

    int size();

    /** Class names in label order (for ImageNet and the generated scenes, WordNet wnids). */
    List<String> classes();

    int channels();

    int height();

    int width();

    /**
     * Sample {@code index}. With a random generator (training), the dataset may apply its own
     * random preprocessing (ImageNet's random-resized crop), and an image that cannot be read is
     * replaced by the next readable one (warned about and counted: tolerable for training); with
     * null (evaluation) it is deterministic (ImageNet's resize to 256 and centre crop to 224), and
     * an image that cannot be read comes back as {@link Sample#unreadable}, so that no other image's
     * result ever stands under its index.
     */
    Sample get(int index, SplittableRandom random);

    /** What sample {@code index} is, for messages (its file, for a dataset of files). */
    default String describe(int index) {
        return name() + " sample " + index;
    }

    /** Number of distinct unreadable images met so far (warned about once each). */
    default long skipped() {
        return 0;
    }
}
