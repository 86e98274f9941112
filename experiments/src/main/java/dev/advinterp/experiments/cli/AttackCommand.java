package dev.advinterp.experiments.cli;

import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.experiments.attacks.Attack;
import dev.advinterp.experiments.attacks.AttackResult;
import dev.advinterp.experiments.attacks.Fgsm;
import dev.advinterp.experiments.attacks.IterativeFgsm;
import dev.advinterp.experiments.attacks.LeastLikelyClass;
import dev.advinterp.experiments.attacks.PgdL2;
import dev.advinterp.experiments.attacks.TargetedL2;
import dev.advinterp.experiments.data.BatchLoader;
import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.train.Batch;
import dev.advinterp.nn.train.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * {@code advinterp attack}: adversarial images of the evaluation split as PNG files and a CSV
 * with per-image success, L2 and L∞ distance and confidence. The CSV is rewritten atomically
 * after every batch; {@code --resume} continues after the images it already holds.
 */
@Command(name = "attack", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Attacks a trained model (model.safetensors or checkpoint.safetensors of 'advinterp train') on the",
                "evaluation split of a dataset. Writes into --out: adv_<index>.png per image and results.csv",
                "(index,label,target,clean_prediction,adversarial_prediction,success,l2,linf,confidence; distances in pixel units)."})
final class AttackCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "Weights written by 'advinterp train'.")
    Path modelFile;

    @Option(names = "--data", required = true, description = "The dataset: " + DataSources.HELP + ".")
    String data;

    @Option(names = "--out", required = true, description = "Output folder.")
    Path out;

    @Option(names = "--attack", description = "fgsm, bim, pgd, pgd-l2, illc or targeted-l2 (default: ${DEFAULT-VALUE}).")
    String attack = "fgsm";

    @Option(names = "--eps", description = "ε in pixel units of 1/255 (L∞; L2 norm for pgd-l2) (default: ${DEFAULT-VALUE}, the paper's FGSM).")
    float eps = Fgsm.PAPER_EPS;

    @Option(names = "--step", description = "Step in pixel units for pgd and pgd-l2 (default: ε/4).")
    Float step;

    @Option(names = "--steps", description = "Iterations for pgd and pgd-l2 (default: ${DEFAULT-VALUE}).")
    int steps = 10;

    @Option(names = "--target", description = "Targets of targeted-l2: 'random' (a seeded class other than the label) or a class index (default: ${DEFAULT-VALUE}).")
    String target = "random";

    @Option(names = "--batch", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch = 32;

    @Option(names = "--limit", description = "Attack only the first N images (0: all).")
    int limit;

    @Option(names = "--seed", description = "Seed of random starts and random targets (default: ${DEFAULT-VALUE}).")
    long seed = 1;

    @Option(names = "--no-images", description = "Write the CSV only.")
    boolean noImages;

    @Option(names = "--resume", description = "Keep the rows of an existing results.csv and continue after them.")
    boolean resume;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws IOException {
        device.apply();
        Dataset ds = DataSources.limit(DataSources.open(data, false), limit);
        Files.createDirectories(out);
        Path csv = out.resolve("results.csv");
        List<String> rows = new ArrayList<>();
        if (resume && Files.exists(csv)) {
            List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
            if (lines.isEmpty() || !lines.getFirst().equals(HEADER)) {
                throw new IllegalArgumentException(csv + " is not a results file of this command (header differs); remove it or drop --resume");
            }
            rows.addAll(lines.subList(1, lines.size()));
        }
        int done = rows.size();
        try (ImageModel model = ModelFiles.load(modelFile); BatchLoader loader = BatchLoader.evaluation(ds, batch)) {
            if (model.config().inChannels() != ds.channels() || model.config().inputSize() != ds.height()) {
                throw new IllegalArgumentException(modelFile + " takes " + model.config().inChannels() + "×" + model.config().inputSize()
                        + " images but " + ds.name() + " has " + ds.channels() + "×" + ds.height());
            }
            Attack a = build(model);
            System.out.printf("attack: %s on %s, %d images%s%n", a.name(), ds.name(), ds.size(), done > 0 ? ", resuming after " + done : "");
            int index = 0, succeeded = 0, attacked = 0;
            try (ProgressBar bar = new ProgressBar(System.out, a.name(), ds.size() - done)) {
                for (Iterator<Batch> it = loader.epoch(0); it.hasNext(); ) {
                    Batch b = it.next();
                    if (index + b.n() <= done) {
                        index += b.n();
                        continue;
                    }
                    try (Scope s = Scope.open()) {
                        Tensor x = b.tensor();
                        model.eval();
                        int[] clean = dev.advinterp.engine.Ops.argmax(model.call(x));
                        // the targets written to the CSV: ILLC fixes its own from the clean image
                        int[] goal = a instanceof LeastLikelyClass illc ? illc.targets(model, x)
                                : a.targeted() ? targets(b.labels(), index, model.config().classes()) : b.labels();
                        AttackResult r = a.run(model, x, a instanceof LeastLikelyClass ? b.labels() : goal);
                        float[] adv = r.adversarial().toArray();
                        int per = b.c() * b.h() * b.w();
                        for (int i = 0; i < b.n(); i++) {
                            int id = index + i;
                            if (id < done) continue;
                            if (!noImages) writePng(out.resolve(String.format("adv_%06d.png", id)), adv, i * per, b.c(), b.h(), b.w());
                            String tgt = a.targeted() ? Integer.toString(goal[i]) : "";
                            rows.add(String.format(Locale.ROOT, "%d,%d,%s,%d,%d,%s,%.4f,%.4f,%.6f", id, b.labels()[i], tgt, clean[i],
                                    r.predicted()[i], r.success()[i], r.l2()[i], r.linf()[i], r.confidence()[i]));
                            attacked++;
                            if (r.success()[i]) succeeded++;
                        }
                        writeCsv(csv, rows);
                        bar.step(b.n(), String.format(Locale.ROOT, "success %.1f%%", 100.0 * succeeded / Math.max(1, attacked)));
                    }
                    index += b.n();
                }
            }
            long total = rows.stream().filter(r -> r.split(",")[5].equals("true")).count();
            System.out.printf(Locale.ROOT, "success rate %.2f%% over %d images; wrote %s%n", 100.0 * total / Math.max(1, rows.size()), rows.size(), csv);
        }
        return 0;
    }

    static final String HEADER = "index,label,target,clean_prediction,adversarial_prediction,success,l2,linf,confidence";

    private Attack build(ImageModel model) {
        float st = step != null ? step : eps / 4;
        return switch (attack) {
            case "fgsm" -> new Fgsm(eps);
            case "bim" -> IterativeFgsm.bim(eps);
            case "pgd" -> IterativeFgsm.pgd(eps, st, steps, seed);
            case "pgd-l2" -> new PgdL2(eps, st, steps, seed, false);
            case "illc" -> new LeastLikelyClass(eps);
            case "targeted-l2" -> TargetedL2.defaults();
            default -> throw new IllegalArgumentException("unknown attack '" + attack + "'; use fgsm, bim, pgd, pgd-l2, illc or targeted-l2");
        };
    }

    /** Per image: the fixed class of --target, or a seeded class other than the label. */
    private int[] targets(int[] labels, int offset, int classes) {
        int[] t = new int[labels.length];
        for (int i = 0; i < labels.length; i++) {
            if (!target.equals("random")) {
                try {
                    t[i] = Integer.parseInt(target);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("--target must be 'random' or a class index, got '" + target + "'");
                }
                if (t[i] < 0 || t[i] >= classes) throw new IllegalArgumentException("--target " + t[i] + " is outside [0, " + classes + ")");
            } else {
                SplittableRandom r = new SplittableRandom(seed * 1_000_003L + offset + i);
                t[i] = (labels[i] + 1 + r.nextInt(classes - 1)) % classes;
            }
        }
        return t;
    }

    private static void writePng(Path file, float[] v, int off, int c, int h, int w) throws IOException {
        BufferedImage img = new BufferedImage(w, h, c == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (c == 1) {
                    img.getRaster().setSample(x, y, 0, byteOf(v[off + y * w + x]));
                } else {
                    int r = byteOf(v[off + y * w + x]), g = byteOf(v[off + h * w + y * w + x]), b = byteOf(v[off + 2 * h * w + y * w + x]);
                    img.setRGB(x, y, (r << 16) | (g << 8) | b);
                }
            }
        }
        ImageIO.write(img, "png", file.toFile());
    }

    private static int byteOf(float v) {
        return Math.round(Math.min(1f, Math.max(0f, v)) * 255f);
    }

    private static void writeCsv(Path file, List<String> rows) throws IOException {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        for (String r : rows) sb.append(r).append('\n');
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), "results", ".tmp");
        Files.writeString(tmp, sb, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
