package dev.advinterp.experiments.cli;

import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Shape;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.Backend;
import dev.advinterp.engine.backend.Backends;
import dev.advinterp.engine.backend.Diagnostics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/**
 * {@code advinterp doctor}: what this machine gives the engine. The engine's backends say it
 * ({@link Diagnostics}); this command shows it, and times an sgemm on the CPU backend.
 */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = {"Reports the Java runtime, cores and SIMD width, the BLAS library in use and where it came from,",
                "a measured sgemm GFLOP/s, the OpenBLAS core type, whether a CUDA driver and GPU are visible, each CUDA",
                "library found (and where) or not (and where it was looked for), and whether the CUDA backend opens on GPU 0."})
final class DoctorCommand implements Callable<Integer> {

    @Option(names = "--gemm-size", description = "Size n of the n×n×n sgemm timed (default: ${DEFAULT-VALUE}).")
    int gemmSize = 1024;

    @Override
    public Integer call() {
        if (gemmSize <= 0 || gemmSize > 8192) throw new IllegalArgumentException("--gemm-size must be in 1..8192, got " + gemmSize);
        Backend cpu = Backends.cpu();
        line("Java", Runtime.version() + " (" + System.getProperty("java.vendor") + ", " + System.getProperty("java.home") + ")");
        line("OS", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        show(cpu.diagnostics());
        line("sgemm", measureSgemm(cpu, gemmSize));
        show(Backends.cudaDiagnostics());
        return 0;
    }

    private static void show(Diagnostics d) {
        for (Diagnostics.Item item : d.items()) {
            switch (item) {
                case Diagnostics.Line l -> line(l.key(), l.value());
                case Diagnostics.Text t -> System.out.print(t.text());
            }
        }
    }

    private static void line(String key, String value) {
        System.out.printf("%-14s %s%n", key, value);
    }

    /**
     * Best of a few timed n×n×n products after a warm-up: 2n³ FLOPs each. The operands are made on
     * the CPU backend itself (a scope on it), whatever device the program chose for its root scope.
     */
    private static String measureSgemm(Backend cpu, int n) {
        try (Scope s = Scope.open(cpu)) {
            Tensor a = Tensor.rand(1, -1, 1, n, n), b = Tensor.rand(2, -1, 1, n, n);
            Tensor c = Tensor.zeros(Shape.of(n, n));
            cpu.gemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
            double best = Double.MAX_VALUE;
            long deadline = System.nanoTime() + 2_000_000_000L;
            int runs = 0;
            while (runs < 3 || (System.nanoTime() < deadline && runs < 20)) {
                long t0 = System.nanoTime();
                cpu.gemm(false, false, n, n, n, 1f, a, 0, n, b, 0, n, 0f, c, 0, n);
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
                runs++;
            }
            double gflops = 2.0 * n * n * n / best / 1e9;
            return String.format("%.1f GFLOP/s (%d×%d×%d, best of %d runs)", gflops, n, n, n, runs);
        }
    }
}
