package dev.advinterp.experiments.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * Labelled image files under one directory, decoded on demand and preprocessed by an
 * {@link ImageNetTransform}. An unreadable file (missing, corrupt, truncated) is replaced by the
 * next readable one in index order, wrapping around, so the same index always yields the same
 * image; each unreadable file is warned about once and counted in {@link #skipped()}.
 *
 * <p>Immutable but for the set of known unreadable files, which is concurrent: safe for the
 * loader's threads.
 */
abstract class ImageFileDataset implements Dataset {
    private static final Logger LOG = Logger.getLogger(ImageFileDataset.class.getName());

    private final String name;
    private final Path dir;
    private final String[] files;
    private final short[] labels;
    private final ImageNetTransform transform;
    private final List<String> classes;
    private final Set<Integer> unreadable = ConcurrentHashMap.newKeySet();

    /** {@code files} are relative to {@code dir}; {@code labels} index {@link ImageNetClasses}. */
    ImageFileDataset(String name, Path dir, String[] files, short[] labels, ImageNetTransform transform) {
        this(name, dir, files, labels, transform, ImageNetClasses.wnids());
    }

    /** {@code files} are relative to {@code dir}; {@code labels} index {@code classes}. */
    ImageFileDataset(String name, Path dir, String[] files, short[] labels, ImageNetTransform transform, List<String> classes) {
        if (files.length != labels.length) throw new IllegalArgumentException(files.length + " files, " + labels.length + " labels");
        if (files.length == 0) throw new IllegalArgumentException(name + ": no images under " + dir);
        this.name = name;
        this.dir = dir;
        this.files = files;
        this.labels = labels;
        this.transform = transform;
        this.classes = List.copyOf(classes);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int size() {
        return files.length;
    }

    /** For ImageNet the 1000 wnids: labels are indices into torchvision's class order even when only some classes are present. */
    @Override
    public List<String> classes() {
        return classes;
    }

    @Override
    public int channels() {
        return 3;
    }

    @Override
    public int height() {
        return transform.crop();
    }

    @Override
    public int width() {
        return transform.crop();
    }

    /** The file of sample {@code index}. */
    public Path file(int index) {
        return dir.resolve(files[index]);
    }

    @Override
    public String describe(int index) {
        return file(index).toString();
    }

    /** The label of sample {@code index}, without decoding it. */
    public int label(int index) {
        return labels[index];
    }

    @Override
    public long skipped() {
        return unreadable.size();
    }

    @Override
    public Sample get(int index, SplittableRandom random) {
        if (index < 0 || index >= files.length) throw new IndexOutOfBoundsException(name + " has " + files.length + " samples, no " + index);
        IOException firstFailure = null;
        for (int step = 0; step < files.length; step++) {
            int i = (index + step) % files.length;
            if (unreadable.contains(i)) continue;
            if (random == null && unreadable.contains(index)) {
                return Sample.unreadable(labels[index], 3, transform.crop(), transform.crop(), file(index) + " cannot be read");
            }
            RgbImage image;
            try {
                image = RgbImage.read(file(i));
            } catch (IOException e) {
                if (firstFailure == null) firstFailure = e;
                if (unreadable.add(i)) {
                    LOG.warning(name + ": skipping an unreadable image" + (random == null ? "" : ", replaced by the next readable one for training")
                            + ": " + e.getMessage());
                }
                if (random == null) return Sample.unreadable(labels[i], 3, transform.crop(), transform.crop(), e.getMessage());
                continue;
            }
            // The generator is untouched by failed reads, so a replacement is drawn exactly as the original would have been.
            float[] pixels = random == null ? transform.evaluation(image) : transform.training(image, random);
            return new Sample(pixels, labels[i], 3, transform.crop(), transform.crop());
        }
        throw new IllegalStateException(name + ": none of the " + files.length + " images under " + dir + " can be read"
                + (firstFailure == null ? "" : "; the first failure: " + firstFailure.getMessage()), firstFailure);
    }
}
