package dev.advinterp.bench;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tape;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Whole models: the evaluation-mode forward pass, and one training step (forward, softmax
 * cross-entropy, backward, SGD with momentum 0.9 and weight decay 5e-4), at ImageNet's 224×224
 * with batch 8 and at the small-input sizes with batch 64. The score is milliseconds per batch;
 * bench/models.sh turns it into images per second beside PyTorch's.
 *
 * <p>A step lasts from a tenth of a second to several seconds (VGG-16 at 224 trains at a few
 * seconds a batch on two cores), so an iteration is two seconds or one step, whichever is longer:
 * the first warm-up iteration absorbs the JIT and the workspaces growing to their final size, the
 * second checks that they have settled.
 */
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 4, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class ModelBenchmark {

    @Param({"alexnet-224-b8", "vgg16-224-b8", "resnet18-224-b8", "alexnet-64-b64", "vgg16-32-b64", "resnet18-32-b64"})
    public String workload;

    private ModelWorkload w;
    private long step;

    @Setup(Level.Trial)
    public void setup() {
        w = ModelWorkload.parse(workload);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        w.close();
    }

    @Benchmark
    public float forward() {
        w.model.eval();
        try (Scope s = Scope.open()) {
            return w.model.call(w.images).get(0);
        }
    }

    @Benchmark
    public void trainStep() {
        w.model.train(true);
        w.model.seed(step++);
        try (Scope s = Scope.open(); Tape t = Tape.start()) {
            w.sgd.step(t.backward(Ops.softmaxCrossEntropy(w.model.call(w.images), w.labels)), ModelWorkload.LR);
        }
    }
}
