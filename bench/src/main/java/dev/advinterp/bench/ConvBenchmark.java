package dev.advinterp.bench;

import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.Backend;
import dev.advinterp.engine.backend.Backends;
import dev.advinterp.engine.backend.ConvGeometry;
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
 * The three passes of each ResNet-18 convolution ({@link ConvLayer}) through the backend's
 * primitives on preallocated tensors, without bias (ResNet's convolutions have none: batch norm
 * follows). Each pass costs {@link ConvGeometry#forwardFlops()}: the backward passes are the
 * same multiply-adds in another order. Every call works on tens of megabytes, so a second of
 * measurement holds tens to hundreds of calls; two short warm-ups suffice to settle the JIT and
 * the workspaces, which grow once to their final size.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class ConvBenchmark {

    @Param({"i224.stem", "i224.layer1", "i224.layer2.0", "i224.layer2", "i224.layer2.ds", "i224.layer3.0",
            "i224.layer3", "i224.layer3.ds", "i224.layer4.0", "i224.layer4", "i224.layer4.ds",
            "c32.stem", "c32.layer1", "c32.layer2.0", "c32.layer2", "c32.layer2.ds", "c32.layer3.0",
            "c32.layer3", "c32.layer3.ds", "c32.layer4.0", "c32.layer4", "c32.layer4.ds"})
    public String layer;

    private Backend backend;
    private ConvGeometry g;
    private Tensor x, w, y, dy, dx, dw;

    @Setup(Level.Trial)
    public void setup() {
        backend = Backends.cpu();
        g = ConvLayer.named(layer).geometry();
        x = Tensor.randn(1, 1f, g.n(), g.cIn(), g.h(), g.w());
        w = Tensor.randn(2, 0.05f, g.cOut(), g.cIn(), g.kh(), g.kw());
        y = Tensor.zeros(g.n(), g.cOut(), g.outH(), g.outW());
        dy = Tensor.randn(3, 1f, g.n(), g.cOut(), g.outH(), g.outW());
        dx = Tensor.zeros(g.n(), g.cIn(), g.h(), g.w());
        dw = Tensor.zeros(g.cOut(), g.cIn(), g.kh(), g.kw());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor t : new Tensor[]{x, w, y, dy, dx, dw}) t.close();
    }

    @Benchmark
    public void forward() {
        backend.conv2dForward(x, w, null, g, y);
    }

    @Benchmark
    public void backwardData() {
        backend.conv2dBackwardData(dy, w, g, dx);
    }

    @Benchmark
    public void backwardFilter() {
        backend.conv2dBackwardFilter(x, dy, g, dw, null);
    }
}
