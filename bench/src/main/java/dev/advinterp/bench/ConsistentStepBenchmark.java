package dev.advinterp.bench;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tape;
import dev.advinterp.experiments.training.ConsistentLoss;
import dev.advinterp.nn.train.Objective;
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
 * One step of training with the paper's consistent loss (Eq. 6, relaxed: α = 0.5, β = 1,
 * ε = 2/255, φ = layer4) against one plain cross-entropy step of the same ResNet-18, in the same
 * JVM, so that the cost of the adversarial term is read as a ratio of two numbers measured
 * together. The consistent step is one clean forward, FGSM's input gradient from it, one
 * adversarial forward and one backward through both forwards: about 2.5 plain steps of work when
 * the input gradient is as dear as a weight gradient, less when it skips the weight gradients.
 */
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 4, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class ConsistentStepBenchmark {

    @Param({"resnet18-32-b64", "resnet18-224-b8"})
    public String workload;

    private ModelWorkload w;
    private ConsistentLoss consistent;
    private long step;

    @Setup(Level.Trial)
    public void setup() {
        w = ModelWorkload.parse(workload);
        w.model.train(true);
        consistent = new ConsistentLoss(ConsistentLoss.Options.defaults());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        w.close();
    }

    @Benchmark
    public void consistentStep() {
        w.model.seed(step++);
        try (Scope s = Scope.open(); Tape t = Tape.start()) {
            Objective.Output o = consistent.compute(w.model, w.images, w.labels);
            w.sgd.step(t.backward(o.loss()), ModelWorkload.LR);
        }
    }

    @Benchmark
    public void plainStep() {
        w.model.seed(step++);
        try (Scope s = Scope.open(); Tape t = Tape.start()) {
            w.sgd.step(t.backward(Ops.softmaxCrossEntropy(w.model.call(w.images), w.labels)), ModelWorkload.LR);
        }
    }
}
