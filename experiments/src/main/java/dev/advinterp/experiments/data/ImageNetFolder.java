package dev.advinterp.experiments.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * ImageNet in the layout torchvision's {@code ImageFolder} reads: {@code <root>/<split>/<wnid>/*.JPEG}
 * (also .jpg, .jpeg and .png, in any case). Samples are ordered by class, then by file name. The
 * label of a folder is its wnid's place among the 1000 ImageNet-1k classes
 * ({@link ImageNetClasses}), not among the folders present, so a subset of the classes keeps the
 * labels of pretrained models; a folder that is not an ImageNet-1k wnid is an error.
 *
 * <p>{@link #get} with a generator gives the training transform, with null the evaluation one
 * (see {@link ImageNetTransform}); unreadable files are replaced (see {@link #skipped()}).
 */
public final class ImageNetFolder extends ImageFileDataset {

    private ImageNetFolder(String name, Path dir, String[] files, short[] labels, ImageNetTransform transform) {
        super(name, dir, files, labels, transform);
    }

    /** The split {@code split} ("train", "val") under {@code root}, with torchvision's 256/224 transforms. */
    public static ImageNetFolder open(Path root, String split) throws IOException {
        return open(root, split, ImageNetTransform.STANDARD);
    }

    public static ImageNetFolder open(Path root, String split, ImageNetTransform transform) throws IOException {
        Path dir = root.resolve(split);
        if (!Files.isDirectory(dir)) {
            throw new IOException("ImageNet: no directory " + dir + "; expected " + root + "/" + split + "/<wnid>/*.JPEG (pass the folder that holds "
                    + split + "/ with --data DIR)");
        }
        List<Path> classDirs = new ArrayList<>();
        int looseImages = 0;
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path p : entries.sorted().toList()) {
                String n = p.getFileName().toString();
                if (n.startsWith(".")) continue;
                if (Files.isDirectory(p)) classDirs.add(p);
                else if (isImage(n)) looseImages++;
            }
        }
        if (classDirs.isEmpty()) {
            throw new IOException("ImageNet: " + dir + " has no class folders" + (looseImages > 0
                    ? " but " + looseImages + " images directly inside: that is the flat validation layout, read with a labels file (ImageNetFlatVal)"
                    : "; expected " + dir + "/<wnid>/*.JPEG"));
        }
        List<String> files = new ArrayList<>();
        List<Short> labels = new ArrayList<>();
        for (Path classDir : classDirs) {
            String wnid = classDir.getFileName().toString();
            int label = ImageNetClasses.indexOf(wnid);
            if (label < 0) {
                throw new IOException("ImageNet: the folder " + classDir + " is not named after one of the 1000 ImageNet-1k wnids "
                        + "(data/imagenet1k-classes.txt); move it out of " + dir + " or rename it to its class's wnid");
            }
            try (Stream<Path> images = Files.list(classDir)) {
                for (Path f : images.sorted().toList()) {
                    String n = f.getFileName().toString();
                    if (!n.startsWith(".") && isImage(n)) {
                        files.add(wnid + "/" + n);
                        labels.add((short) label);
                    }
                }
            }
        }
        if (files.isEmpty()) throw new IOException("ImageNet: the " + classDirs.size() + " class folders under " + dir + " hold no .JPEG files");
        short[] y = new short[labels.size()];
        for (int i = 0; i < y.length; i++) y[i] = labels.get(i);
        return new ImageNetFolder("imagenet/" + split, dir, files.toArray(String[]::new), y, transform);
    }

    static boolean isImage(String fileName) {
        String n = fileName.toLowerCase(Locale.ROOT);
        return n.endsWith(".jpeg") || n.endsWith(".jpg") || n.endsWith(".png");
    }
}
