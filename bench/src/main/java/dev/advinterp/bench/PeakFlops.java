package dev.advinterp.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The machine's FP32 limit, measured: one thread per core, each running fused multiply-adds on
 * the widest vectors the JIT offers and nothing else (no loads, no stores in the loop). An FMA has
 * a latency of about 4 cycles and modern cores issue two per cycle, so at least 8 independent
 * chains are needed to keep both units busy; 16 leaves margin and still fits the 32 vector
 * registers of AVX-512 (AVX2 has 16, which the loop then just fills).
 *
 * <p>Each chain is {@code acc ← acc·m + c} with {@code m} just below 1, so the values converge to
 * {@code c/(1 − m)} and stay normal (denormals would slow some cores). JMH sums the throughput of
 * its threads; {@link #flopsPerOp()} turns one call into FLOPs.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Threads(Threads.MAX)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class PeakFlops {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int CHAINS = 16;
    static final int STEPS = 1 << 16;

    // Fields, not constants: the JIT must not fold the arithmetic away.
    public float m = 0.999f, c = 1e-3f;

    @Benchmark
    public float fma() {
        FloatVector vm = FloatVector.broadcast(S, m), vc = FloatVector.broadcast(S, c);
        FloatVector a0 = vc, a1 = vc.mul(2), a2 = vc.mul(3), a3 = vc.mul(4), a4 = vc.mul(5), a5 = vc.mul(6),
                a6 = vc.mul(7), a7 = vc.mul(8), a8 = vc.mul(9), a9 = vc.mul(10), a10 = vc.mul(11), a11 = vc.mul(12),
                a12 = vc.mul(13), a13 = vc.mul(14), a14 = vc.mul(15), a15 = vc.mul(16);
        for (int i = 0; i < STEPS; i++) {
            a0 = a0.fma(vm, vc);
            a1 = a1.fma(vm, vc);
            a2 = a2.fma(vm, vc);
            a3 = a3.fma(vm, vc);
            a4 = a4.fma(vm, vc);
            a5 = a5.fma(vm, vc);
            a6 = a6.fma(vm, vc);
            a7 = a7.fma(vm, vc);
            a8 = a8.fma(vm, vc);
            a9 = a9.fma(vm, vc);
            a10 = a10.fma(vm, vc);
            a11 = a11.fma(vm, vc);
            a12 = a12.fma(vm, vc);
            a13 = a13.fma(vm, vc);
            a14 = a14.fma(vm, vc);
            a15 = a15.fma(vm, vc);
        }
        FloatVector s = a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7)
                .add(a8).add(a9).add(a10).add(a11).add(a12).add(a13).add(a14).add(a15);
        return s.reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    /** FLOPs of one call of {@link #fma()}: two per lane per FMA. */
    public static double flopsPerOp() {
        return 2.0 * S.length() * CHAINS * (double) STEPS;
    }

    public static int lanes() {
        return S.length();
    }
}
