package dev.advinterp.experiments.cli;

import dev.advinterp.experiments.data.scenes.Difficulty;
import dev.advinterp.experiments.data.scenes.ScenesGenerator;
import dev.advinterp.experiments.data.scenes.ScenesOptions;
import dev.advinterp.experiments.data.scenes.ScenesSummary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code advinterp data scenes}: the generated Broden-format dataset with WordNet classes. */
@Command(name = "scenes", mixinStandardHelpOptions = true,
        description = {"Generates the synthetic scenes dataset in NetDissect's Broden layout.",
                "Writes index.csv, category.csv, label.csv, c_*.csv and images/ with masks at",
                "half resolution for colour, object, material, part and texture (the scene",
                "labels the whole image), plus classes.csv and image_class.csv: 10 classes",
                "named by WordNet 3.0 ids. The same options give the same bytes. The folder",
                "appears only when complete. See experiments/DATA.md."})
final class DataScenesCommand implements Callable<Integer> {
    private static final ScenesOptions D = ScenesOptions.defaults();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--out", required = true, description = "Folder to create (absent or empty; see --force).")
    Path out;

    @Option(names = "--images", description = "Number of images (default: ${DEFAULT-VALUE}).")
    int images = D.images();

    @Option(names = "--size", description = "Image side in pixels, even, 32..512; masks are half of it (default: ${DEFAULT-VALUE}).")
    int size = D.size();

    @Option(names = "--seed", description = "Seed of everything drawn (default: ${DEFAULT-VALUE}).")
    long seed = D.seed();

    @Option(names = "--val-fraction", description = "Fraction of images in the val split (default: ${DEFAULT-VALUE}).")
    double valFraction = D.valFraction();

    @Option(names = "--difficulty", description = "standard, or easy (no distractors, little noise, larger objects; see experiments/DATA.md) (default: ${DEFAULT-VALUE}).")
    String difficulty = "standard";

    @Option(names = "--force", description = "Replace a Broden dataset already in --out (a folder holding anything else is never replaced).")
    boolean force;

    @Override
    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        ScenesOptions options = new ScenesOptions(images, size, seed, valFraction, Difficulty.parse(difficulty));
        o.printf("scenes: %d images of %d×%d (masks %d×%d), seed %d, val fraction %.2f → %s%n",
                images, size, size, size / 2, size / 2, seed, valFraction, out);
        o.flush();
        long start = System.nanoTime();
        long[] lastReport = {start};
        ScenesSummary s = new ScenesGenerator(options).generate(out, force, done -> {
            long now = System.nanoTime();
            if (done < images && now - lastReport[0] < 1_000_000_000L) return;
            lastReport[0] = now;
            double seconds = (now - start) / 1e9;
            o.printf("  %,d/%,d images (%.0f%%), %.1f s%n", done, images, 100.0 * done / images, seconds);
            o.flush();
        });
        o.printf("wrote %s: %d train + %d val images, %d classes, %d concept labels in %.2f s (%.0f images/s)%n",
                s.directory(), s.train(), s.val(), s.classes(), s.labels(), s.seconds(), s.imagesPerSecond());
        o.flush();
        return 0;
    }
}
