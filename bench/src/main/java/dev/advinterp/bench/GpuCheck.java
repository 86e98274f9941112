package dev.advinterp.bench;

import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.Backend;
import dev.advinterp.engine.backend.Backends;
import dev.advinterp.engine.backend.DeviceChoice;
import dev.advinterp.engine.backend.DeviceSelection;
import dev.advinterp.engine.backend.cuda.CudaBackend;
import dev.advinterp.engine.backend.cuda.CudaLibraries;
import dev.advinterp.engine.backend.cuda.CudaProbe;
import dev.advinterp.engine.backend.cuda.CudaUnavailableException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The engine's side of bench/gpu-check.sh, without JMH (the GPU machine runs one short check):
 * images/s of the evaluation forward and of the training step of {@link ModelBenchmark}, the
 * consistent-loss and plain steps of {@link ConsistentStepBenchmark} (the same code, called
 * directly), and the bandwidth of the fused FGSM step beside a device-to-device copy.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp benchmarks.jar dev.advinterp.bench.GpuCheck --doctor
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp benchmarks.jar dev.advinterp.bench.GpuCheck \
 *     [--device cuda|cpu|auto] [--workloads alexnet-224-b64,vgg16-224-b64,resnet18-224-b64] [--consistent resnet18-224-b64]
 *     [--warmup 3] [--min-iterations 5] [--max-iterations 30] [--seconds 3] [--elements 67108864] [--json out.json]
 * </pre>
 *
 * Timing: each step is bracketed by {@link CudaBackend#synchronize()} (nothing on the CPU, whose
 * kernels return when done), so a step's time includes all its GPU work; after the warm-up steps,
 * steps are timed until both {@code --min-iterations} and {@code --seconds} are reached, or
 * {@code --max-iterations}. The bandwidth kernels are timed in groups of calls between two
 * synchronisations, since one call lasts well under a millisecond. A workload that fails (an
 * operation the backend lacks, memory) is reported as an error and the others still run.
 */
public final class GpuCheck {

    record Options(DeviceChoice device, List<String> workloads, List<String> consistent, int warmup, int minIterations,
                   int maxIterations, double seconds, long elements, Path json) {

        static Options parse(String... args) {
            DeviceChoice device = DeviceChoice.CUDA;
            List<String> workloads = List.of("alexnet-224-b64", "vgg16-224-b64", "resnet18-224-b64");
            List<String> consistent = List.of("resnet18-224-b64");
            int warmup = 3, minIterations = 5, maxIterations = 30;
            double seconds = 3;
            long elements = 1L << 26;
            Path json = null;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("-h") || a.equals("--help")) {
                    throw new IllegalArgumentException("usage: GpuCheck [--device cuda|cpu|auto] [--workloads A,B] [--consistent W] "
                            + "[--warmup N] [--min-iterations N] [--max-iterations N] [--seconds S] [--elements N] [--json FILE]");
                }
                if (i + 1 >= args.length) throw new IllegalArgumentException(a + ": a value must follow");
                String v = args[++i];
                switch (a) {
                    case "--device" -> device = DeviceChoice.parse(v);
                    case "--workloads" -> workloads = list(v);
                    case "--consistent" -> consistent = list(v);
                    case "--warmup" -> warmup = positive(a, v, 0);
                    case "--min-iterations" -> minIterations = positive(a, v, 1);
                    case "--max-iterations" -> maxIterations = positive(a, v, 1);
                    case "--seconds" -> seconds = Double.parseDouble(v);
                    case "--elements" -> elements = Long.parseLong(v);
                    case "--json" -> json = Path.of(v);
                    default -> throw new IllegalArgumentException("unknown option " + a + " (try --help)");
                }
            }
            if (maxIterations < minIterations) {
                throw new IllegalArgumentException("--max-iterations " + maxIterations + " is below --min-iterations " + minIterations);
            }
            if (elements < 1 || elements > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("--elements must be in 1.." + (Integer.MAX_VALUE - 8) + ", got " + elements);
            }
            return new Options(device, workloads, consistent, warmup, minIterations, maxIterations, seconds, elements, json);
        }

        private static List<String> list(String v) {
            return v.isBlank() ? List.of() : Arrays.stream(v.split(",")).map(String::strip).toList();
        }

        private static int positive(String option, String v, int min) {
            int n = Integer.parseInt(v);
            if (n < min) throw new IllegalArgumentException(option + " must be at least " + min + ", got " + n);
            return n;
        }
    }

    /** One timed step: mean and best milliseconds over the timed iterations. */
    record Timing(double meanMs, double bestMs, int iterations) {
    }

    /** One result row as the report reads it; {@code error} is null when the step ran. */
    record Row(String benchmark, String workload, int batch, Timing timing, String error) {
    }

    /** A bandwidth measurement: bytes read and written per call. */
    record Bandwidth(String kernel, long elements, long bytesPerCall, Timing timing, String error) {
        double gbPerS() {
            return timing == null ? Double.NaN : bytesPerCall / (timing.bestMs() * 1e-3) / 1e9;
        }
    }

    private final Options o;
    private final DeviceSelection selection;
    private final Runnable sync;
    private final List<Row> rows = new ArrayList<>();
    private final List<Bandwidth> bandwidths = new ArrayList<>();

    private GpuCheck(Options o, DeviceSelection selection) {
        this.o = o;
        this.selection = selection;
        this.sync = selection.backend()::synchronize;
    }

    public static void main(String[] args) throws IOException {
        if (args.length == 1 && args[0].equals("--doctor")) {
            doctor();
            return;
        }
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("GpuCheck: " + e.getMessage());
            System.exit(2);
            return;
        }
        DeviceSelection s;
        try {
            s = Backends.useDevice(o.device());
        } catch (CudaUnavailableException e) {
            System.err.println("GpuCheck: CUDA cannot be used: " + e.getMessage());
            if (o.json() != null) {
                // the report reads the reason from here
                Files.writeString(o.json(), "{\"info\": {\"device\": \"" + o.device().word() + " refused\"}, \"results\": [], \"error\": "
                        + str("CUDA cannot be used: " + e.getMessage()) + "}\n", StandardCharsets.UTF_8);
            }
            System.exit(3);
            return;
        }
        System.err.println("GpuCheck: device " + s.describe());
        GpuCheck check = new GpuCheck(o, s);
        check.run();
        if (o.json() != null) {
            System.err.println("GpuCheck: results in " + o.json());
        } else {
            System.out.println(check.json());
        }
    }

    /**
     * The CUDA part of {@code advinterp doctor}, without the command line, whose reflection over
     * every command needs java.desktop, which the packed runtime leaves out to stay small.
     */
    private static void doctor() {
        CudaProbe.Result probe = CudaProbe.probe();
        System.out.println("Java           " + Runtime.version() + " (" + System.getProperty("java.home") + ")");
        System.out.println("cores          " + Runtime.getRuntime().availableProcessors());
        System.out.println("CPU backend    " + Backends.cpu().describe());
        System.out.println("CUDA           " + probe.summary());
        for (CudaProbe.Gpu g : probe.gpus()) {
            System.out.println("  GPU " + g.ordinal() + "        " + g.name() + ", " + (g.totalBytes() >> 20) + " MiB");
        }
        System.out.println("CUDA libraries (ADVINTERP_CUDA_PATH, LD_LIBRARY_PATH, the usual folders, Python nvidia/*/lib):");
        System.out.print(CudaLibraries.report());
        System.out.println("CUDA backend   " + Backends.cudaStatus());
    }

    /**
     * Rewrites the JSON file after every measurement: if the check is stopped (a time limit on the
     * GPU machine), the report still has what was measured.
     */
    private void save() {
        if (o.json() == null) return;
        try {
            Files.writeString(o.json(), json(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("GpuCheck: cannot write " + o.json(), e);
        }
    }

    private void run() {
        for (String w : o.workloads()) {
            ModelBenchmark b = new ModelBenchmark();
            b.workload = w;
            workload(w, b::setup, b::tearDown, "ModelBenchmark.forward", b::forward, "ModelBenchmark.trainStep", b::trainStep);
        }
        for (String w : o.consistent()) {
            ConsistentStepBenchmark b = new ConsistentStepBenchmark();
            b.workload = w;
            workload(w, b::setup, b::tearDown, "ConsistentStepBenchmark.consistentStep", b::consistentStep,
                    "ConsistentStepBenchmark.plainStep", b::plainStep);
        }
        bandwidth();
    }

    /** Sets a benchmark up, times its two steps, and tears it down; a failed setup fails both rows. */
    private void workload(String w, Runnable setup, Runnable tearDown, String first, Runnable firstStep, String second,
                          Runnable secondStep) {
        int batch = batchOf(w);
        try {
            setup.run();
        } catch (RuntimeException e) {
            fail(first, w, batch, e);
            fail(second, w, batch, e);
            return;
        }
        try {
            step(first, w, batch, firstStep);
            step(second, w, batch, secondStep);
        } finally {
            tearDown.run();
        }
    }

    private static int batchOf(String workload) {
        String[] p = workload.split("-");
        if (p.length != 3 || !p[2].startsWith("b")) {
            throw new IllegalArgumentException("workload '" + workload + "': expected <arch>-<size>-b<batch>");
        }
        return Integer.parseInt(p[2].substring(1));
    }

    private void fail(String bench, String w, int batch, RuntimeException e) {
        System.err.println("GpuCheck: " + bench + " " + w + " failed: " + e);
        rows.add(new Row(bench, w, batch, null, e.toString()));
        save();
    }

    private void step(String bench, String w, int batch, Runnable body) {
        System.err.printf(Locale.ROOT, "GpuCheck: %s %s ...%n", bench, w);
        try {
            Timing t = time(body);
            rows.add(new Row(bench, w, batch, t, null));
            save();
            System.err.printf(Locale.ROOT, "GpuCheck: %s %s: %.2f ms mean, %.2f best, %d iterations, %.1f images/s%n",
                    bench, w, t.meanMs(), t.bestMs(), t.iterations(), batch / (t.meanMs() * 1e-3));
        } catch (RuntimeException e) {
            fail(bench, w, batch, e);
        }
    }

    private Timing time(Runnable body) {
        for (int i = 0; i < o.warmup(); i++) {
            body.run();
        }
        sync.run();
        double sum = 0, best = Double.MAX_VALUE;
        int n = 0;
        long start = System.nanoTime();
        while (n < o.maxIterations() && (n < o.minIterations() || (System.nanoTime() - start) / 1e9 < o.seconds())) {
            long t0 = System.nanoTime();
            body.run();
            sync.run();
            double ms = (System.nanoTime() - t0) / 1e6;
            sum += ms;
            best = Math.min(best, ms);
            n++;
        }
        return new Timing(sum / n, best, n);
    }

    /**
     * The FGSM step on {@code --elements} floats (reads x, the gradient and x0, writes x: 16 bytes
     * an element) beside a copy of as many floats (8 bytes an element); best of 5 groups of calls.
     */
    private void bandwidth() {
        long n = o.elements();
        int calls = 20;
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.rand(5, 0f, 1f, (int) n), g = Tensor.randn(6, 1f, (int) n), x0 = x.copy(), dst = Tensor.zeros((int) n);
            Backend b = Backends.of(x);
            float[] lo = {0f}, hi = {1f};
            bandwidths.add(groupTimed("fgsmStep", n, 16 * n, calls,
                    () -> b.fgsmStep(x, g, x0, 1f / 255, 2f / 255, lo, hi)));
            bandwidths.add(groupTimed("copy", n, 8 * n, calls, () -> b.copy(x0, dst)));
        } catch (RuntimeException e) {
            System.err.println("GpuCheck: bandwidth failed: " + e);
            bandwidths.add(new Bandwidth("fgsmStep", n, 16 * n, null, e.toString()));
        }
        save();
    }

    private Bandwidth groupTimed(String kernel, long n, long bytes, int calls, Runnable op) {
        try {
            op.run();
            sync.run();
            double best = Double.MAX_VALUE, sum = 0;
            int groups = 5;
            for (int r = 0; r < groups; r++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < calls; i++) op.run();
                sync.run();
                double ms = (System.nanoTime() - t0) / 1e6 / calls;
                best = Math.min(best, ms);
                sum += ms;
            }
            Bandwidth bw = new Bandwidth(kernel, n, bytes, new Timing(sum / groups, best, groups * calls), null);
            System.err.printf(Locale.ROOT, "GpuCheck: %s of %d floats: %.4f ms best, %.1f GB/s%n", kernel, n, best, bw.gbPerS());
            return bw;
        } catch (RuntimeException e) {
            System.err.println("GpuCheck: " + kernel + " failed: " + e);
            return new Bandwidth(kernel, n, bytes, null, e.toString());
        }
    }

    // ------------------------------------------------------------------ JSON (no library on the GPU machine's class path)

    private String json() {
        DeviceSelection s = selection;
        StringBuilder sb = new StringBuilder("{\n  \"info\": {");
        sb.append("\"device\": ").append(str(s.describe())).append(", \"backend\": ").append(str(s.backend().describe()))
                .append(", \"java\": ").append(str(Runtime.version().toString()))
                .append(", \"warmup\": ").append(o.warmup()).append(", \"min_iterations\": ").append(o.minIterations())
                .append(", \"seconds\": ").append(o.seconds()).append("},\n  \"results\": [");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            sb.append(i == 0 ? "\n    " : ",\n    ").append("{\"benchmark\": ").append(str(r.benchmark()))
                    .append(", \"workload\": ").append(str(r.workload())).append(", \"batch\": ").append(r.batch());
            if (r.timing() != null) {
                sb.append(", \"ms\": ").append(num(r.timing().meanMs())).append(", \"best_ms\": ").append(num(r.timing().bestMs()))
                        .append(", \"iterations\": ").append(r.timing().iterations())
                        .append(", \"images_per_s\": ").append(num(r.batch() / (r.timing().meanMs() * 1e-3)));
            }
            if (r.error() != null) sb.append(", \"error\": ").append(str(r.error()));
            sb.append('}');
        }
        sb.append("\n  ],\n  \"bandwidth\": [");
        for (int i = 0; i < bandwidths.size(); i++) {
            Bandwidth b = bandwidths.get(i);
            sb.append(i == 0 ? "\n    " : ",\n    ").append("{\"kernel\": ").append(str(b.kernel())).append(", \"elements\": ")
                    .append(b.elements()).append(", \"bytes_per_call\": ").append(b.bytesPerCall());
            if (b.timing() != null) {
                sb.append(", \"ms\": ").append(num(b.timing().meanMs())).append(", \"best_ms\": ").append(num(b.timing().bestMs()))
                        .append(", \"gb_per_s\": ").append(num(b.gbPerS()));
            }
            if (b.error() != null) sb.append(", \"error\": ").append(str(b.error()));
            sb.append('}');
        }
        return sb.append("\n  ]\n}\n").toString();
    }

    private static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "null";
    }

    private static String str(String v) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : v.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        return sb.append('"').toString();
    }
}
