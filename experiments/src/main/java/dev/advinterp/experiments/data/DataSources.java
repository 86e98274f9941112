package dev.advinterp.experiments.data;

import dev.advinterp.experiments.data.broden.BrodenDataset;
import dev.advinterp.nn.models.ModelConfig;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The datasets the commands accept, by a short spec:
 * {@code fashion-mnist[:DIR]} (IDX files; default Debian's /usr/share/datasets/fashion-mnist) and
 * {@code scenes:DIR} or {@code broden:DIR} (a Broden-layout folder with an image class, such as
 * {@code advinterp data scenes} writes).
 */
public final class DataSources {
    public static final String HELP = "fashion-mnist[:DIR] or scenes:DIR (a folder written by 'advinterp data scenes')";

    private DataSources() {
    }

    /** The training split ({@code train = true}) or the evaluation split of the spec. */
    public static Dataset open(String spec, boolean train) {
        String kind = spec, arg = null;
        int colon = spec.indexOf(':');
        if (colon >= 0) {
            kind = spec.substring(0, colon);
            arg = spec.substring(colon + 1);
        }
        try {
            return switch (kind) {
                case "fashion-mnist" -> {
                    Path dir = arg == null || arg.isBlank() ? FashionMnist.DEFAULT_DIR : Path.of(arg);
                    yield train ? FashionMnist.train(dir) : FashionMnist.test(dir);
                }
                case "scenes", "broden" -> {
                    if (arg == null || arg.isBlank()) throw new IllegalArgumentException("--data " + spec + ": name the folder, e.g. scenes:data/scenes");
                    yield BrodenDataset.open(Path.of(arg)).classification(train ? "train" : "val");
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
