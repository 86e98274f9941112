package dev.advinterp.experiments.data;

import dev.advinterp.experiments.data.broden.BrodenDataset;
import dev.advinterp.nn.models.ModelConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The datasets the commands accept, by a short spec (see experiments/DATA.md):
 * <ul>
 *   <li>{@code fashion-mnist[:DIR]}: IDX files (default Debian's /usr/share/datasets/fashion-mnist);</li>
 *   <li>{@code scenes:DIR} or {@code broden:DIR}: a Broden-layout folder with image classes, such as
 *       {@code advinterp data scenes} writes (splits train and val);</li>
 *   <li>{@code imagenet:DIR}: {@code DIR/train/<wnid>/} and {@code DIR/val/<wnid>/}, torchvision's
 *       ImageFolder layout, labelled in the 1000-class order;</li>
 *   <li>{@code imagenet-val:DIR[,LABELS]}: the ILSVRC2012 validation images as distributed, flat in
 *       DIR, with a labels file of 'file wnid' or 'file label' lines (default DIR/labels.txt);
 *       evaluation only;</li>
 *   <li>{@code images:DIR}: class sub-folders with any names, {@code DIR/<class>/…}; the splits
 *       {@code DIR/train} and {@code DIR/val} where both exist, else DIR serves both.</li>
 * </ul>
 * The image-file sets use torchvision's evaluation transform (resize 256, centre crop 224) for a
 * 224-px model, and the same proportions for another size ({@link ImageNetTransform#forSize}).
 */
public final class DataSources {
    public static final String HELP = "fashion-mnist[:DIR], scenes:DIR (a folder written by 'advinterp data scenes'), imagenet:DIR, "
            + "imagenet-val:DIR[,LABELS] or images:DIR";

    private DataSources() {
    }

    /** The training split ({@code train = true}) or the evaluation split of the spec, image files at 224 px. */
    public static Dataset open(String spec, boolean train) {
        return open(spec, train, 224);
    }

    /**
     * The training or evaluation split of the spec; image-file sets are brought to
     * {@code size}×{@code size} (the model's input), the others have their own size.
     */
    public static Dataset open(String spec, boolean train, int size) {
        String kind = spec, arg = null;
        int colon = spec.indexOf(':');
        if (colon >= 0) {
            kind = spec.substring(0, colon);
            arg = spec.substring(colon + 1);
        }
        if (!kind.equals("fashion-mnist") && (arg == null || arg.isBlank())) {
            throw new IllegalArgumentException("--data " + spec + ": name the folder, e.g. " + kind + ":path/to/folder");
        }
        try {
            return switch (kind) {
                case "fashion-mnist" -> {
                    Path dir = arg == null || arg.isBlank() ? FashionMnist.DEFAULT_DIR : Path.of(arg);
                    yield train ? FashionMnist.train(dir) : FashionMnist.test(dir);
                }
                case "scenes", "broden" -> BrodenDataset.open(Path.of(arg)).classification(train ? "train" : "val");
                case "imagenet" -> ImageNetFolder.open(Path.of(arg), train ? "train" : "val", ImageNetTransform.forSize(size));
                case "imagenet-val" -> {
                    if (train) throw new IllegalArgumentException("--data " + spec + " is the validation set only; train on imagenet:DIR");
                    int comma = arg.lastIndexOf(',');
                    Path dir = Path.of(comma < 0 ? arg : arg.substring(0, comma));
                    Path labels = comma < 0 ? dir.resolve("labels.txt") : Path.of(arg.substring(comma + 1));
                    yield ImageNetFlatVal.open(dir, labels, ImageNetTransform.forSize(size));
                }
                case "images" -> {
                    Path dir = Path.of(arg);
                    boolean splits = Files.isDirectory(dir.resolve("train")) && Files.isDirectory(dir.resolve("val"));
                    yield ImageFolder.open(splits ? dir.resolve(train ? "train" : "val") : dir, ImageNetTransform.forSize(size));
                }
                default -> throw new IllegalArgumentException("unknown dataset '" + spec + "'; use " + HELP);
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /** Fails, naming both, unless the images of {@code data} are what the model takes. */
    public static void requireFits(Dataset data, ModelConfig model, Object modelSource) {
        if (model.inChannels() != data.channels() || model.inputSize() != data.height() || model.inputSize() != data.width()) {
            throw new IllegalArgumentException(modelSource + " takes " + model.inChannels() + "×" + model.inputSize() + "×" + model.inputSize()
                    + " images but " + data.name() + " has " + data.channels() + "×" + data.height() + "×" + data.width());
        }
        if (model.classes() < data.classes().size()) {
            throw new IllegalArgumentException(modelSource + " has " + model.classes() + " classes but " + data.name() + " has "
                    + data.classes().size());
        }
    }

    /** The first {@code limit} samples of a dataset (all when limit ≤ 0 or beyond its size). */
    public static Dataset limit(Dataset d, int limit) {
        if (limit <= 0 || limit >= d.size()) return d;
        return new Dataset() {
            public String name() {
                return d.name() + "[:" + limit + "]";
            }

            public int size() {
                return limit;
            }

            public List<String> classes() {
                return d.classes();
            }

            public int channels() {
                return d.channels();
            }

            public int height() {
                return d.height();
            }

            public int width() {
                return d.width();
            }

            public Sample get(int index, SplittableRandom random) {
                if (index < 0 || index >= limit) throw new IndexOutOfBoundsException(index + " in " + name());
                return d.get(index, random);
            }

            public long skipped() {
                return d.skipped();
            }
        };
    }
}
