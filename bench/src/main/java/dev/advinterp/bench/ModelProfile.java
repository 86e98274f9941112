package dev.advinterp.bench;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tape;
import dev.advinterp.engine.backend.Backends;
import dev.advinterp.engine.backend.Profiler;
import dev.advinterp.engine.backend.cpu.CpuBackend;
import dev.advinterp.experiments.training.ConsistentLoss;

import java.util.Locale;

/**
 * Where a benchmarked step spends its time, kernel by kernel:
 *
 * <pre>
 * java -Dadvinterp.profile=true --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *      -cp bench/target/benchmarks.jar dev.advinterp.bench.ModelProfile vgg16-224-b8 train [steps]
 * </pre>
 *
 * The step is one of {@code forward}, {@code train} or {@code consistent}, as in
 * {@link ModelBenchmark} and {@link ConsistentStepBenchmark}. The first {@link #WARM_UP_STEPS}
 * steps are not counted: they include the JIT, the workspaces growing to size and the timed choice
 * between oneDNN and Winograd for each convolution shape, which the benchmarks' warm-up also
 * leaves out.
 */
public final class ModelProfile {
    static final int WARM_UP_STEPS = 4;
    static final String MEASURING = "ModelProfile: measuring ";

    private ModelProfile() {
    }

    public static void main(String[] args) {
        if (args.length < 2) {
            System.err.println("usage: ModelProfile <arch>-<size>-b<batch> forward|train|consistent [steps, default 3]");
            System.exit(2);
        }
        Profiler profiler = Backends.defaultBackend().profiler();
        if (profiler == null) {
            System.err.println("ModelProfile: run with -Dadvinterp.profile=true, or there is nothing to report");
            System.exit(2);
            return;
        }
        String kind = args[1];
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        try (ModelWorkload w = ModelWorkload.parse(args[0])) {
            ConsistentLoss consistent = new ConsistentLoss(ConsistentLoss.Options.defaults());
            for (int warm = 0; warm < WARM_UP_STEPS; warm++) step(w, kind, consistent);
            profiler.reset();
            System.out.println(MEASURING + steps + " steps"); // bench/onednn_split.py counts oneDNN's executions after this line
            System.out.flush();
            long t0 = System.nanoTime();
            StringBuilder each = new StringBuilder();
            for (int i = 0; i < steps; i++) {
                long s0 = System.nanoTime();
                step(w, kind, consistent);
                each.append(String.format(Locale.ROOT, " %.0f", (System.nanoTime() - s0) / 1e6));
            }
            double ms = (System.nanoTime() - t0) / 1e6 / steps;
            System.out.printf(Locale.ROOT, "%s %s: %.1f ms per step, %.1f images/s (%d steps, profiling on)%n",
                    w.name, kind, ms, w.batch * 1000 / ms, steps);
            System.out.println("each step, ms:" + each);
            System.out.println(profiler.report());
            if (Backends.defaultBackend() instanceof CpuBackend cpu && !cpu.convolutionChoices().isEmpty()) {
                System.out.println("Convolution passes Winograd can take, timed against oneDNN over their first calls (advinterp.conv.measure):");
                cpu.convolutionChoices().forEach(c -> System.out.println("  " + c));
            }
        }
    }

    private static void step(ModelWorkload w, String kind, ConsistentLoss consistent) {
        switch (kind) {
            case "forward" -> {
                w.model.eval();
                try (Scope s = Scope.open()) {
                    w.model.call(w.images);
                }
            }
            case "train" -> {
                w.model.train(true);
                try (Scope s = Scope.open(); Tape t = Tape.start()) {
                    w.sgd.step(t.backward(Ops.softmaxCrossEntropy(w.model.call(w.images), w.labels)), ModelWorkload.LR);
                }
            }
            case "consistent" -> {
                w.model.train(true);
                try (Scope s = Scope.open(); Tape t = Tape.start()) {
                    w.sgd.step(t.backward(consistent.compute(w.model, w.images, w.labels).loss()), ModelWorkload.LR);
                }
            }
            default -> throw new IllegalArgumentException("step '" + kind + "': choose forward, train or consistent");
        }
    }
}
