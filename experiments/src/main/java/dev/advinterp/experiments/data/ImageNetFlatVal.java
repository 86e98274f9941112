package dev.advinterp.experiments.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The ImageNet validation images as distributed, all in one folder ({@code <root>/val/*.JPEG}),
 * with their classes in a labels file. Each line of that file is
 * <pre>
 *   ILSVRC2012_val_00000001.JPEG n01751748     (file name and wnid)
 *   ILSVRC2012_val_00000001.JPEG 65            (file name and label: 0-based, torchvision's order)
 * </pre>
 * separated by spaces or tabs; the two forms may be mixed; blank lines and lines starting with
 * {@code #} are skipped. File names are relative to the image folder. Samples are ordered by file
 * name. The devkit's {@code ILSVRC2012_validation_ground_truth.txt} (one 1-based ILSVRC id per
 * line, in another class order) is not this format and is rejected at its first line.
 *
 * <p>A file listed but absent is treated as unreadable when read: replaced by the next readable
 * image and counted in {@link #skipped()}.
 */
public final class ImageNetFlatVal extends ImageFileDataset {

    private ImageNetFlatVal(String name, Path dir, String[] files, short[] labels, ImageNetTransform transform) {
        super(name, dir, files, labels, transform);
    }

    /** The images of {@code <root>/val} labelled by {@code labelsFile}, with torchvision's 256/224 transforms. */
    public static ImageNetFlatVal open(Path root, Path labelsFile) throws IOException {
        return open(root.resolve("val"), labelsFile, ImageNetTransform.STANDARD);
    }

    /** The images of {@code imageDir} labelled by {@code labelsFile}. */
    public static ImageNetFlatVal open(Path imageDir, Path labelsFile, ImageNetTransform transform) throws IOException {
        if (!Files.isDirectory(imageDir)) {
            throw new IOException("ImageNet: no directory " + imageDir + "; expected the validation images there (pass the folder that holds val/ with --data DIR)");
        }
        if (!Files.isRegularFile(labelsFile)) {
            throw new IOException("ImageNet: no labels file " + labelsFile + "; it needs a line 'file-name wnid' or 'file-name label' per image");
        }
        TreeMap<String, Short> labels = new TreeMap<>();
        Map<String, Integer> firstLine = new HashMap<>();
        try (BufferedReader r = Files.newBufferedReader(labelsFile, StandardCharsets.UTF_8)) {
            int lineNo = 0;
            for (String line; (line = r.readLine()) != null; ) {
                lineNo++;
                String s = line.strip();
                if (s.isEmpty() || s.startsWith("#")) continue;
                String[] f = s.split("\\s+");
                if (f.length != 2) {
                    throw new IOException(labelsFile + " line " + lineNo + ": expected 'file-name wnid' or 'file-name label' (two fields), got " + f.length
                            + " field" + (f.length == 1 ? "" : "s") + ": '" + s + "'" + (f.length == 1 && f[0].matches("\\d+")
                            ? "; the devkit's ground-truth file numbers classes differently and needs converting to wnids" : ""));
                }
                int label;
                if (f[1].matches("n\\d{8}")) {
                    label = ImageNetClasses.indexOf(f[1]);
                    if (label < 0) throw new IOException(labelsFile + " line " + lineNo + ": " + f[1] + " is not one of the 1000 ImageNet-1k wnids");
                } else if (f[1].matches("\\d{1,4}")) {
                    label = Integer.parseInt(f[1]);
                    if (label >= 1000) throw new IOException(labelsFile + " line " + lineNo + ": label " + label + " is outside 0–999");
                } else {
                    throw new IOException(labelsFile + " line " + lineNo + ": '" + f[1] + "' is neither a wnid (n and 8 digits) nor a label 0–999");
                }
                if (!ImageNetFolder.isImage(f[0])) {
                    throw new IOException(labelsFile + " line " + lineNo + ": '" + f[0] + "' is not an image file name (.JPEG, .jpg, .png)");
                }
                Integer earlier = firstLine.putIfAbsent(f[0], lineNo);
                if (earlier != null) throw new IOException(labelsFile + " line " + lineNo + ": " + f[0] + " is already labelled on line " + earlier);
                labels.put(f[0], (short) label);
            }
        }
        if (labels.isEmpty()) throw new IOException(labelsFile + ": no labelled images");
        String[] files = labels.keySet().toArray(String[]::new);
        short[] y = new short[files.length];
        for (int i = 0; i < files.length; i++) y[i] = labels.get(files[i]);
        return new ImageNetFlatVal("imagenet/" + imageDir.getFileName(), imageDir, files, y, transform);
    }
}
