package dev.advinterp.experiments.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Images in class sub-folders with any names ({@code <dir>/<class>/*.jpg}), as torchvision's
 * {@code ImageFolder} reads them: the classes are the folder names in sorted order, labelled
 * 0, 1, 2, …; files ending in .JPEG, .jpg, .jpeg or .png (any case) are images, other files and
 * hidden entries are ignored. Where the folder names are WordNet ids (n and 8 digits) the set can be
 * measured by the consistency metric too. Images go through an {@link ImageNetTransform}.
 */
public final class ImageFolder extends ImageFileDataset {

    private ImageFolder(String name, Path dir, String[] files, short[] labels, ImageNetTransform transform, List<String> classes) {
        super(name, dir, files, labels, transform, classes);
    }

    public static ImageFolder open(Path dir, ImageNetTransform transform) throws IOException {
        if (!Files.isDirectory(dir)) throw new IOException("images: no folder " + dir + "; expected " + dir + "/<class>/<image files>");
        List<Path> classDirs;
        try (Stream<Path> entries = Files.list(dir)) {
            classDirs = entries.filter(p -> !p.getFileName().toString().startsWith(".") && Files.isDirectory(p)).sorted().toList();
        }
        if (classDirs.isEmpty()) throw new IOException("images: " + dir + " has no class folders; expected " + dir + "/<class>/<image files>");
        if (classDirs.size() > Short.MAX_VALUE) throw new IOException("images: " + dir + " has " + classDirs.size() + " class folders, too many");
        List<String> classes = new ArrayList<>(), files = new ArrayList<>();
        List<Short> labels = new ArrayList<>();
        for (Path c : classDirs) {
            String name = c.getFileName().toString();
            classes.add(name);
            try (Stream<Path> images = Files.list(c)) {
                for (Path f : images.sorted().toList()) {
                    String n = f.getFileName().toString();
                    if (!n.startsWith(".") && ImageNetFolder.isImage(n)) {
                        files.add(name + "/" + n);
                        labels.add((short) (classes.size() - 1));
                    }
                }
            }
        }
        if (files.isEmpty()) throw new IOException("images: the " + classDirs.size() + " class folders under " + dir + " hold no images (.jpg, .jpeg, .png)");
        short[] y = new short[labels.size()];
        for (int i = 0; i < y.length; i++) y[i] = labels.get(i);
        return new ImageFolder("images/" + dir.getFileName(), dir, files.toArray(String[]::new), y, transform, classes);
    }
}
