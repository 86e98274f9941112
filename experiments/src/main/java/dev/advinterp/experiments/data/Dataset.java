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
     * random preprocessing (ImageNet's random-resized crop); with null (evaluation) it is
     * deterministic (ImageNet's resize to 256 and centre crop to 224).
     */
    Sample get(int index, SplittableRandom random);

    /** Number of samples skipped as unreadable so far (a corrupt image is replaced, counted, and warned about). */
    default long skipped() {
        return 0;
    }
}
