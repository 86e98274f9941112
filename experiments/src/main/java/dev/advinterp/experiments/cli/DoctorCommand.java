package dev.advinterp.experiments.cli;

import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Shape;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.Backends;
import dev.advinterp.engine.backend.cpu.CpuBackend;
import dev.advinterp.engine.backend.cpu.OpenBlas;
import dev.advinterp.engine.backend.cpu.Parallel;
import dev.advinterp.engine.backend.cuda.CudaLibraries;
import dev.advinterp.engine.backend.cuda.CudaProbe;
import jdk.incubator.vector.FloatVector;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code advinterp doctor}: what this machine gives the engine. */
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
        CpuBackend cpu = Backends.cpu();
        line("Java", Runtime.version() + " (" + System.getProperty("java.vendor") + ", " + System.getProperty("java.home") + ")");
        line("OS", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        line("cores", Runtime.getRuntime().availableProcessors() + " available, engine pool " + Parallel.THREADS + " threads");
        line("SIMD", FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit vectors ("
                + FloatVector.SPECIES_PREFERRED.length() + " floats) through the Vector API");
        line("heap", (Runtime.getRuntime().maxMemory() >> 20) + " MiB max");
        OpenBlas.LoadResult load = cpu.blasLoad();
        if (load.blas().isPresent()) {
            OpenBlas b = load.blas().get();
            line("BLAS", "OpenBLAS from " + b.path());
            line("BLAS config", b.config());
            line("BLAS threads", String.valueOf(b.threads()));
            String env = System.getenv("OPENBLAS_CORETYPE");
            line("core type", b.coreName() + (env == null ? " (chosen by OpenBLAS; OPENBLAS_CORETYPE not set)"
                    : " (OPENBLAS_CORETYPE=" + env + " in the environment)"));
        } else {
            line("BLAS", "none loaded: GEMM falls back to the Vector API (slower)");
            for (String a : load.attempts()) line("  tried", a);
        }
        line("sgemm", measureSgemm(cpu, gemmSize));
        CudaProbe.Result cuda = CudaProbe.probe();
        line("CUDA", cuda.summary());
        for (CudaProbe.Gpu g : cuda.gpus()) {
            line("  GPU " + g.ordinal(), g.name() + ", " + (g.totalBytes() >> 20) + " MiB");
        }
        cudaSection();
        return 0;
    }

    /** The CUDA libraries found (where) and not found (in which folders), and whether the backend opens on GPU 0. */
    private static void cudaSection() {
        System.out.println("CUDA libraries (ADVINTERP_CUDA_PATH, LD_LIBRARY_PATH, the usual folders, Python nvidia/*/lib):");
        System.out.print(CudaLibraries.report());
        line("CUDA backend", Backends.cudaStatus());
    }

    private static void line(String key, String value) {
        System.out.printf("%-14s %s%n", key, value);
    }

    /** Best of a few timed n×n×n products after a warm-up: 2n³ FLOPs each. */
    private static String measureSgemm(CpuBackend cpu, int n) {
        try (Scope s = Scope.open()) {
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
