package dev.advinterp.bench;

import dev.advinterp.engine.Machine;
import dev.advinterp.engine.backend.ConvGeometry;
import dev.advinterp.engine.backend.cpu.CpuBackend;
import dev.advinterp.engine.backend.cpu.Gemm;
import dev.advinterp.engine.backend.cpu.OpenBlas;
import dev.advinterp.engine.backend.cpu.Parallel;
import dev.advinterp.nn.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns JMH's JSON results ({@code -rf json}) and the numpy script's JSON into Markdown tables a
 * person can paste: GFLOP/s of every benchmark, its fraction of the FP32 peak measured in the same
 * run by {@link PeakFlops}, the engine/numpy ratio for SGEMM, and whether each target is met.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *      -cp benchmarks.jar dev.advinterp.bench.Report --jmh jmh.json [--numpy numpy.json] [--note TEXT]...
 * </pre>
 *
 * The OpenBLAS facts (core type, threads) are read by loading the engine's backend in this JVM,
 * which sees the same environment the benchmark forks saw when run from the same shell.
 */
public final class Report {
    /** SGEMM must reach this fraction of numpy's speed. */
    static final double SGEMM_RATIO_TARGET = 0.9;
    /** The 224×224 convolutions must reach this fraction of the measured FP32 peak; the 3×3 ones the higher one. */
    static final double CONV_PEAK_TARGET = 0.4, CONV3X3_PEAK_TARGET = 0.6;

    /** A JMH primary metric; {@code best} is the highest per-iteration score (NaN when none was recorded). */
    private record Score(double value, double error, String unit, double best) {
        /** Seconds per call, for the time-per-op modes. */
        double seconds() {
            return value * secondsPerUnit();
        }

        double secondsError() {
            return error * secondsPerUnit();
        }

        private double secondsPerUnit() {
            return switch (unit) {
                case "s/op" -> 1;
                case "ms/op" -> 1e-3;
                case "us/op" -> 1e-6;
                case "ns/op" -> 1e-9;
                default -> throw new IllegalArgumentException("unexpected JMH unit " + unit + " for a time per call");
            };
        }

        /** Calls per second, for the throughput mode. */
        double perSecond() {
            return switch (unit) {
                case "ops/s" -> value;
                case "ops/ms" -> value * 1e3;
                case "ops/us" -> value * 1e6;
                default -> throw new IllegalArgumentException("unexpected JMH unit " + unit + " for a throughput");
            };
        }
    }

    private record Row(String benchmark, Map<String, String> params, Score score) {
    }

    private Report() {
    }

    public static void main(String[] args) throws IOException {
        List<Path> jmh = new ArrayList<>();
        Path numpy = null;
        List<String> notes = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) usage("option " + a + " needs a value");
            switch (a) {
                case "--jmh" -> jmh.add(Path.of(args[++i]));
                case "--numpy" -> numpy = Path.of(args[++i]);
                case "--note" -> notes.add(args[++i]);
                default -> usage("unknown option " + a);
            }
        }
        if (jmh.isEmpty()) usage("no --jmh file given");
        List<Row> rows = new ArrayList<>();
        for (Path p : jmh) rows.addAll(readJmh(p));
        Map<Integer, Map<String, Object>> numpyResults = new LinkedHashMap<>();
        Map<String, Object> numpyInfo = Map.of();
        if (numpy != null) {
            @SuppressWarnings("unchecked")
            Map<String, Object> doc = (Map<String, Object>) Json.parse(Files.readString(numpy), numpy.toString(), true);
            numpyInfo = map(doc.get("info"));
            for (Object o : (List<?>) doc.get("results")) {
                Map<String, Object> r = map(o);
                numpyResults.put((int) num(r.get("size")), r);
            }
        }
        System.out.print(render(rows, numpyResults, numpyInfo, notes));
    }

    private static void usage(String why) {
        System.err.println("Report: " + why + "\nusage: Report --jmh FILE [--jmh FILE]... [--numpy FILE] [--note TEXT]...");
        System.exit(2);
    }

    private static List<Row> readJmh(Path p) throws IOException {
        Object doc;
        doc = Json.parse(Files.readString(p), p.toString(), true);
        if (!(doc instanceof List<?> list)) throw new IllegalArgumentException(p + ": not a JMH result list (expected a JSON array)");
        List<Row> rows = new ArrayList<>();
        for (Object o : list) {
            Map<String, Object> r = map(o);
            Map<String, String> params = new LinkedHashMap<>();
            if (r.get("params") != null) map(r.get("params")).forEach((k, v) -> params.put(k, String.valueOf(v)));
            Map<String, Object> m = map(r.get("primaryMetric"));
            double best = Double.NaN;
            if (m.get("rawData") instanceof List<?> forks) {
                for (Object f : forks) {
                    if (!(f instanceof List<?> iterations)) continue;
                    for (Object it : iterations) best = Double.isNaN(best) ? num(it) : Math.max(best, num(it));
                }
            }
            rows.add(new Row((String) r.get("benchmark"), params,
                    new Score(num(m.get("score")), num(m.get("scoreError")), (String) m.get("scoreUnit"), best)));
        }
        return rows;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        if (o instanceof Map<?, ?> m) return (Map<String, Object>) m;
        return Map.of();
    }

    private static double num(Object o) {
        if (o instanceof Number d) return d.doubleValue();
        if (o instanceof String s) {
            try {
                return Double.parseDouble(s);
            } catch (NumberFormatException e) {
                return Double.NaN;
            }
        }
        return Double.NaN;
    }

    static String render(List<Row> rows, Map<Integer, Map<String, Object>> numpy, Map<String, Object> numpyInfo, List<String> notes) {
        StringBuilder out = new StringBuilder();
        List<String> misses = new ArrayList<>();
        int targets = 0;

        // The machine's limit is the fastest the FMA loop ran: a slower iteration only means that
        // something else had the cores then. Its mean is shown beside it.
        double peak = Double.NaN, peakMean = Double.NaN;
        int peakRuns = 0;
        for (Row r : rows) {
            if (r.benchmark.endsWith(".PeakFlops.fma")) {
                double perOp = PeakFlops.flopsPerOp() / 1e9, toPerSecond = r.score.perSecond() / r.score.value;
                double best = (Double.isNaN(r.score.best) ? r.score.value : r.score.best) * toPerSecond * perOp;
                peak = Double.isNaN(peak) ? best : Math.max(peak, best);
                double mean = r.score.perSecond() * perOp;
                peakMean = Double.isNaN(peakMean) ? mean : Math.max(peakMean, mean);
                peakRuns++;
            }
        }

        out.append("## Machine and libraries\n\n| | |\n|---|---|\n");
        out.append("| CPU | ").append(cpuModel()).append(", ").append(Runtime.getRuntime().availableProcessors())
                .append(" cores; engine threads ").append(Parallel.THREADS).append(" |\n");
        out.append("| JVM | ").append(System.getProperty("java.vm.name")).append(' ').append(System.getProperty("java.version"))
                .append("; Vector API preferred species ").append(PeakFlops.lanes() * 32).append("-bit |\n");
        Gemm gemm = CpuBackend.instance().gemmImpl();
        if (gemm instanceof OpenBlas ob) {
            out.append("| engine GEMM | OpenBLAS, core **").append(ob.coreName()).append("**, ").append(ob.threads())
                    .append(" threads; `").append(ob.config()).append("` |\n");
        } else {
            out.append("| engine GEMM | ").append(gemm.describe()).append(" |\n");
        }
        if (!numpyInfo.isEmpty()) {
            out.append("| numpy | ").append(numpyInfo.get("numpy")).append("; OpenBLAS core **").append(numpyInfo.get("corename"))
                    .append("**, ").append(fmtInt(numpyInfo.get("threads"))).append(" threads; `").append(numpyInfo.get("config")).append("` |\n");
        }
        out.append("| OPENBLAS_CORETYPE | ").append(env("OPENBLAS_CORETYPE")).append(" |\n");
        out.append("| OPENBLAS_L2_SIZE | ").append(env("OPENBLAS_L2_SIZE")).append(" |\n");
        out.append("| FP32 peak (measured) | ");
        if (Double.isNaN(peak)) {
            out.append("not measured (PeakFlops.fma missing from the results) |\n");
        } else {
            out.append(String.format(Locale.ROOT, "**%.0f GFLOP/s**, the best iteration of %d run%s (best mean %.0f); %d threads, FMA on %d-lane vectors |\n",
                    peak, peakRuns, peakRuns == 1 ? "" : "s", peakMean, Runtime.getRuntime().availableProcessors(), PeakFlops.lanes()));
        }
        for (String n : notes) out.append("| note | ").append(n).append(" |\n");

        out.append("\n## SGEMM (n×n·n×n, 2n³ FLOPs)\n\n");
        out.append("| n | engine ms | engine GFLOP/s | % of peak | numpy ms | numpy GFLOP/s | engine/numpy | target ≥ ")
                .append(fmt2(SGEMM_RATIO_TARGET)).append(" |\n");
        out.append("|---:|---:|---:|---:|---:|---:|---:|:---:|\n");
        for (Row r : rows) {
            if (!r.benchmark.endsWith(".SgemmBenchmark.sgemm")) continue;
            int n = Integer.parseInt(r.params.get("size"));
            double flops = SgemmBenchmark.flops(n);
            double s = r.score.seconds(), gf = flops / s / 1e9;
            out.append("| ").append(n).append(" | ").append(ms(r.score)).append(" | ").append(fmt1(gf)).append(" | ")
                    .append(pct(gf, peak)).append(" | ");
            Map<String, Object> np = numpy.get(n);
            if (np == null) {
                out.append("— | — | — | not compared |\n");
                continue;
            }
            double npGf = num(np.get("gflops"));
            double ratio = gf / npGf;
            boolean met = ratio >= SGEMM_RATIO_TARGET;
            targets++;
            if (!met) misses.add("sgemm " + n + ": engine/numpy " + fmt2(ratio));
            out.append(String.format(Locale.ROOT, "%.3f ± %.3f", num(np.get("ms")), num(np.get("ms_error"))))
                    .append(" | ").append(fmt1(npGf)).append(" | ").append(fmt2(ratio)).append(" | ").append(met ? "yes" : "**no**").append(" |\n");
        }

        out.append("\n## Convolution (each pass counted as 2·n·cOut·outH·outW·cIn·kh·kw FLOPs)\n\n");
        out.append("| layer | input → cOut, kernel/stride | pass | GFLOP | ms | GFLOP/s | % of peak | target (224×224: 3×3 ≥ ")
                .append(pct(CONV3X3_PEAK_TARGET)).append(", others ≥ ").append(pct(CONV_PEAK_TARGET)).append(") |\n");
        out.append("|---|---|---|---:|---:|---:|---:|:---:|\n");
        String[] passes = {"forward", "backwardData", "backwardFilter"};
        for (ConvLayer layer : ConvLayer.ALL) {
            for (String pass : passes) {
                Row r = find(rows, ".ConvBenchmark." + pass, "layer", layer.name());
                if (r == null) continue;
                ConvGeometry g = layer.geometry();
                double flops = g.forwardFlops(), gf = flops / r.score.seconds() / 1e9;
                String target = "—";
                if (layer.imageNet()) {
                    targets++;
                    double want = g.kh() == 3 && g.kw() == 3 ? CONV3X3_PEAK_TARGET : CONV_PEAK_TARGET;
                    boolean met = !Double.isNaN(peak) && gf >= want * peak;
                    target = "≥ " + pct(want) + ": " + (met ? "yes" : "**no**");
                    if (!met) misses.add(layer.name() + " " + pass + ": " + pct(gf, peak) + " of peak");
                }
                out.append("| ").append(layer.name()).append(" | ").append(layer.shape()).append(" | ").append(pass).append(" | ")
                        .append(String.format(Locale.ROOT, "%.3f", flops / 1e9)).append(" | ").append(ms(r.score)).append(" | ")
                        .append(fmt1(gf)).append(" | ").append(pct(gf, peak)).append(" | ").append(target).append(" |\n");
            }
        }

        out.append("\nTargets met: ").append(targets - misses.size()).append(" of ").append(targets).append(".\n");
        if (!misses.isEmpty()) {
            out.append("Missed:\n");
            for (String m : misses) out.append("- ").append(m).append('\n');
        }
        return out.toString();
    }

    private static Row find(List<Row> rows, String suffix, String param, String value) {
        for (Row r : rows) {
            if (r.benchmark.endsWith(suffix) && value.equals(r.params.get(param))) return r;
        }
        return null;
    }

    private static String ms(Score s) {
        double v = s.seconds() * 1e3, e = s.secondsError() * 1e3;
        return Double.isNaN(e) ? String.format(Locale.ROOT, "%.3f", v) : String.format(Locale.ROOT, "%.3f ± %.3f", v, e);
    }

    private static String pct(double gf, double peak) {
        return Double.isNaN(peak) ? "—" : String.format(Locale.ROOT, "%.1f%%", 100 * gf / peak);
    }

    private static String pct(double fraction) {
        return Math.round(100 * fraction) + "%";
    }

    private static String fmt1(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    private static String fmt2(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

    private static String fmtInt(Object o) {
        double d = num(o);
        return Double.isNaN(d) ? "?" : Integer.toString((int) d);
    }

    private static String env(String name) {
        String v = System.getenv(name);
        return v == null ? "unset" : "`" + v + "`";
    }

    private static String cpuModel() {
        return Machine.cpuModel().orElse(System.getProperty("os.arch"));
    }
}
