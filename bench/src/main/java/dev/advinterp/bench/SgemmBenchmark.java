package dev.advinterp.bench;

import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.Backend;
import dev.advinterp.engine.backend.Backends;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Square single-precision GEMM, {@code C = A·B} with n×n operands, through the backend's guarded
 * entry point (the same path {@code Ops.matmul} takes, without its allocation of C).
 * 2·n³ FLOPs against 12·n² bytes: compute-bound at every size here, so the score is the GEMM
 * library's kernel speed on this machine.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class SgemmBenchmark {

    @Param({"512", "1024", "2048"})
    public int size;

    private Backend backend;
    private Tensor a, b, c;

    @Setup(Level.Trial)
    public void setup() {
        backend = Backends.cpu();
        a = Tensor.randn(1, 1f, size, size);
        b = Tensor.randn(2, 1f, size, size);
        c = Tensor.zeros(size, size);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        a.close();
        b.close();
        c.close();
    }

    @Benchmark
    public void sgemm() {
        backend.gemm(false, false, size, size, size, 1f, a, 0, size, b, 0, size, 0f, c, 0, size);
    }

    public static double flops(int size) {
        return 2.0 * size * size * (double) size;
    }
}
