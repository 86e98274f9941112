package dev.advinterp.bench;

import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.experiments.attacks.Attack;
import dev.advinterp.experiments.attacks.AttackSpec;
import dev.advinterp.experiments.data.BatchLoader;
import dev.advinterp.experiments.data.DataSources;
import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.experiments.data.ImageNetClasses;
import dev.advinterp.experiments.data.scenes.ScenesGenerator;
import dev.advinterp.experiments.data.scenes.ScenesOptions;
import dev.advinterp.experiments.run.ConsistencyRun;
import dev.advinterp.experiments.run.RunFolder;
import dev.advinterp.experiments.wordnet.ClassDistances;
import dev.advinterp.experiments.wordnet.WordNetGraph;
import dev.advinterp.nn.models.Architecture;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.models.ModelConfig;
import dev.advinterp.nn.models.Models;
import dev.advinterp.nn.train.Batch;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/**
 * What the measurements cost beyond the passes they need, on the generated scenes:
 * <ul>
 *   <li>{@code consistency}: the whole {@link ConsistencyRun} (record the layer on clean and FGSM
 *       images, the metric, the CSV/JSON/PNG outputs) against the bare passes it needs (per batch a
 *       clean forward, the FGSM gradient pass, an adversarial forward), in alternating runs;</li>
 *   <li>the WordNet distance matrix of the 1000 ImageNet classes, from loading WordNet on.</li>
 * </ul>
 * Usage: {@code MeasurementCost [--arch resnet18] [--width 1] [--size 64] [--images 1000] [--rounds 3]}.
 */
public final class MeasurementCost {

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new java.util.HashMap<>(Map.of("--arch", "resnet18", "--width", "1", "--size", "64", "--images", "1000",
                "--rounds", "3", "--batch", "32"));
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!o.containsKey(args[i])) throw new IllegalArgumentException("unknown option " + args[i] + "; options: " + o.keySet());
            o.put(args[i], args[i + 1]);
        }
        System.out.printf("machine: %d cores, load average %.2f%n", Runtime.getRuntime().availableProcessors(),
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        wordnetMatrix();
        consistency(Architecture.parse(o.get("--arch")), Float.parseFloat(o.get("--width")), Integer.parseInt(o.get("--size")),
                Integer.parseInt(o.get("--images")), Integer.parseInt(o.get("--rounds")), Integer.parseInt(o.get("--batch")));
    }

    static void wordnetMatrix() {
        long t0 = System.nanoTime();
        try (WordNetGraph g = WordNetGraph.open()) {
            long t1 = System.nanoTime();
            ClassDistances d = ClassDistances.compute(g, ImageNetClasses.wnids());
            long t2 = System.nanoTime();
            double[] a = d.similarity(1.0);
            long t3 = System.nanoTime();
            System.out.printf(Locale.ROOT, "A for the %d ImageNet classes (%,d pairs): %.2f s in all (WordNet load %.2f s, distances %.2f s, "
                            + "A %.3f s; %d entries)%n", d.size(), d.size() * (d.size() - 1L) / 2, (t3 - t0) / 1e9, (t1 - t0) / 1e9,
                    (t2 - t1) / 1e9, (t3 - t2) / 1e9, a.length);
        }
    }

    static void consistency(Architecture arch, float width, int size, int images, int rounds, int batch) throws IOException {
        Path tmp = Files.createTempDirectory("advinterp-cost");
        try {
            Path scenes = tmp.resolve("scenes");
            new ScenesGenerator(new ScenesOptions(images * 5, size, 1, 0.2)).generate(scenes, false, done -> { });
            Dataset data = DataSources.limit(DataSources.open("scenes:" + scenes, false), images);
            ModelConfig config = ModelConfig.small(arch, 3, size, 10, 1).withWidth(width);
            System.out.printf(Locale.ROOT, "consistency of %s on %d scenes images, batch %d%n", config, data.size(), batch);
            double bestPasses = Double.MAX_VALUE, bestRun = Double.MAX_VALUE;
            try (ImageModel model = Models.create(config)) {
                for (int r = 0; r < rounds; r++) {
                    double passes = passes(model, data, batch);
                    Path out = tmp.resolve("run" + r);
                    long t0 = System.nanoTime();
                    try (RunFolder f = RunFolder.open(out, "consistency", Map.of(), ConsistencyRun.OUTPUTS, false, false)) {
                        var s = ConsistencyRun.Settings.defaults();
                        ConsistencyRun.run(model, data, new ConsistencyRun.Settings(null, s.attack(), s.rule(), s.sigma(), s.minImages(), batch), f,
                                tmp.resolve("cache"), "bench", null);
                    }
                    double run = (System.nanoTime() - t0) / 1e9;
                    bestPasses = Math.min(bestPasses, passes);
                    bestRun = Math.min(bestRun, run);
                    System.out.printf(Locale.ROOT, "  round %d: passes alone %.2f s, consistency run %.2f s (%.3f×)%n", r + 1, passes, run, run / passes);
                }
            }
            System.out.printf(Locale.ROOT, "consistency / passes (best of %d each): %.2f s / %.2f s = %.3f× (target ≤ 1.2×); load average now %.2f%n",
                    rounds, bestRun, bestPasses, bestRun / bestPasses, ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        } finally {
            try (var s = Files.walk(tmp)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    /** The passes the metric needs and nothing else: clean forward, FGSM, adversarial forward, per batch. */
    static double passes(ImageModel model, Dataset data, int batch) {
        Attack fgsm = AttackSpec.fgsm(1).build();
        long t0 = System.nanoTime();
        try (var mode = model.inMode(false); BatchLoader loader = BatchLoader.evaluation(data, batch)) {
            for (Iterator<Batch> it = loader.epoch(0); it.hasNext(); ) {
                Batch b = it.next();
                try (Scope s = Scope.open()) {
                    Tensor x = b.tensor();
                    model.call(x).toArray();
                    Tensor adv = fgsm.perturb(model, x, b.labels());
                    model.call(adv).toArray();
                }
            }
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    private MeasurementCost() {
    }
}
