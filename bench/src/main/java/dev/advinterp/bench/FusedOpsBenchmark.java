package dev.advinterp.bench;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.Backend;
import dev.advinterp.engine.backend.Backends;
import dev.advinterp.engine.backend.cpu.Parallel;
import dev.advinterp.nn.models.Architecture;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.models.ModelConfig;
import dev.advinterp.nn.models.Models;
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

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The fused ops and the elementwise kernels of the CPU backend beside a copy of the same size, on
 * float32 tensors made once per trial: bench/fused.sh divides the bytes each call must move by
 * its time and reports that as a fraction of the copy's bandwidth, beside PyTorch's eager
 * sequence for the same formula (bench/torch_fused.py).
 *
 * <p>The bytes counted are the compulsory traffic of the formula, each operand read or written
 * once (fused_report.py holds the same table; "r" is a read, "w" a write, 4 bytes each):
 * <ul>
 *   <li>copy, copyParallel: src r, dst w = 8 B/element;</li>
 *   <li>fgsmStep: x r/w, grad r, x0 r = 16 B/element;</li>
 *   <li>sgdResNet18, sgdFlat: param r/w, grad r, momentum buffer r/w = 20 B/element;</li>
 *   <li>featureMatching: a r, b r, gradA w, gradB w = 16 B/element;</li>
 *   <li>softmaxCrossEntropy: logits r, gradient w = 8 B/element (the kernel reads each 4 KB row
 *       three times, but from the cache after the first);</li>
 *   <li>addFresh, addInto: a r, b r, out w = 12 B/element;</li>
 *   <li>reluFresh, reluInto: x r, y w = 8 B/element.</li>
 * </ul>
 * The feature-matching and cross-entropy tensors of the smaller shapes fit in the L2 cache, so
 * their "bandwidth" is the cache's, and may exceed the copy's.
 *
 * <p>Each workload is its own {@link State}, so a fork allocates only the tensors its benchmark
 * uses (three 38.5 MB images at most). Calls take from tens of microseconds to tens of
 * milliseconds, so one-second iterations hold hundreds of calls; bench/fused.sh may override the
 * counts (and does, shorter, with --quick).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class FusedOpsBenchmark {
    /** A batch of 64 ImageNet images. */
    static final int[] IMAGE = {64, 3, 224, 224};

    private static Backend cpu() {
        return Backends.cpu();
    }

    private static void closeAll(Tensor... ts) {
        for (Tensor t : ts) if (t != null) t.close();
    }

    // ------------------------------------------------------------------ copy

    @State(Scope.Benchmark)
    public static class CopyState {
        Backend be;
        Tensor src, dst;

        @Setup(Level.Trial)
        public void setup() {
            be = cpu();
            src = Tensor.rand(1, 0f, 1f, IMAGE);
            dst = Tensor.zeros(IMAGE);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            closeAll(src, dst);
        }
    }

    /**
     * The engine's copy op, {@link Backend#copy} (Ops has none; {@code Tensor.copyFrom} does the
     * same): one {@code MemorySegment.copy} on the calling thread. 8 B/element.
     */
    @Benchmark
    public void copy(CopyState s) {
        s.be.copy(s.src, s.dst);
    }

    /**
     * The same copy split into one contiguous slice per engine thread ({@link Parallel#THREADS})
     * with {@code Tensor.copyFrom}, as the fused kernels split their work: the copy bandwidth of
     * all the cores the fused kernels use. 8 B/element.
     */
    @Benchmark
    public void copyParallel(CopyState s) {
        long n = s.src.numel();
        int parts = Parallel.THREADS;
        Parallel.forRange(parts, 1, (a, b) -> {
            long from = n * a / parts, to = n * b / parts;
            s.dst.copyFrom(s.src, from, from, to - from);
        });
    }

    // ------------------------------------------------------------------ FGSM step

    @State(Scope.Benchmark)
    public static class FgsmState {
        static final float EPS = 8f / 255, ALPHA = 2f / 255;
        /** One bound per channel (the per-channel path of the kernel), pixel space. */
        static final float[] LO = {0f, 0f, 0f}, HI = {1f, 1f, 1f};
        Tensor x, grad, x0;

        @Setup(Level.Trial)
        public void setup() {
            x0 = Tensor.rand(1, 0f, 1f, IMAGE);
            x = x0.copy();
            grad = Tensor.randn(2, 1f, IMAGE);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            closeAll(x, grad, x0);
        }
    }

    /**
     * One I-FGSM step in place: x ← clip(x + α·sign(g), max(x0 − ε, lo[c]), min(x0 + ε, hi[c])).
     * Repeated on the same x, which stays in the ε-ball. 16 B/element: x r/w, grad r, x0 r.
     */
    @Benchmark
    public void fgsmStep(FgsmState s) {
        Ops.fgsmStep(s.x, s.grad, s.x0, FgsmState.ALPHA, FgsmState.EPS, FgsmState.LO, FgsmState.HI);
    }

    // ------------------------------------------------------------------ SGD with momentum

    static final float LR = 0.01f, MOMENTUM = 0.9f, WEIGHT_DECAY = 5e-4f;

    /** Parameters, gradients and momentum buffers of the same shapes. */
    abstract static class SgdTensors {
        final List<Tensor> params = new ArrayList<>(), grads = new ArrayList<>(), buffers = new ArrayList<>();

        void add(Tensor param, long seed) {
            params.add(param);
            int[] d = param.shape().dims();
            grads.add(Tensor.randn(seed, 1e-2f, d));
            buffers.add(Tensor.randn(seed + 1, 1e-2f, d));
        }

        void step() {
            for (int i = 0; i < params.size(); i++) {
                Ops.sgdStep(params.get(i), grads.get(i), buffers.get(i), LR, MOMENTUM, WEIGHT_DECAY, false);
            }
        }

        long numel() {
            long n = 0;
            for (Tensor p : params) n += p.numel();
            return n;
        }
    }

    /**
     * The 62 parameter tensors of the engine's ImageNet ResNet-18 (torchvision's: 11,689,512
     * floats), in the model's order, each with a gradient and a momentum buffer of its own.
     */
    @State(Scope.Benchmark)
    public static class SgdResNet18State extends SgdTensors {
        ImageModel model;

        @Setup(Level.Trial)
        public void setup() {
            model = Models.create(ModelConfig.imagenet(Architecture.RESNET18, 1));
            long seed = 10;
            for (Tensor p : model.parameters()) add(p, seed += 2);
            if (params.size() != 62 || numel() != 11_689_512L) {
                throw new IllegalStateException("ResNet-18 has " + params.size() + " parameter tensors of " + numel()
                        + " floats; expected torchvision's 62 of 11,689,512");
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            grads.forEach(Tensor::close);
            buffers.forEach(Tensor::close);
            model.close();
        }
    }

    /** One flat tensor of ResNet-18's 11,689,512 parameters. */
    @State(Scope.Benchmark)
    public static class SgdFlatState extends SgdTensors {
        @Setup(Level.Trial)
        public void setup() {
            add(Tensor.randn(3, 0.05f, 11_689_512), 4);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            params.forEach(Tensor::close);
            grads.forEach(Tensor::close);
            buffers.forEach(Tensor::close);
        }
    }

    /**
     * The SGD update (momentum 0.9, weight decay 5e-4, PyTorch's formula) of every ResNet-18
     * parameter, through {@link Ops#sgdStep} one tensor at a time as nn's {@code Sgd.step} does
     * (Sgd itself needs a {@code Gradients}, which only a backward pass makes).
     * 20 B/element: param r/w, grad r, momentum buffer r/w.
     */
    @Benchmark
    public void sgdResNet18(SgdResNet18State s) {
        s.step();
    }

    /** The same update on one flat tensor of the same size. 20 B/element. */
    @Benchmark
    public void sgdFlat(SgdFlatState s) {
        s.step();
    }

    // ------------------------------------------------------------------ feature matching

    /**
     * The features the consistent loss compares: ResNet-18's pooled features [64, 512] and its
     * layer4 map [64, 512, 7, 7].
     */
    @State(Scope.Benchmark)
    public static class FeatureState {
        @Param({"64x512", "64x512x7x7"})
        public String features;

        Backend be;
        Tensor a, b, gradA, gradB;

        @Setup(Level.Trial)
        public void setup() {
            be = cpu();
            int[] d = dims(features);
            a = Tensor.randn(5, 1f, d);
            b = Tensor.randn(6, 1f, d);
            gradA = Tensor.zeros(d);
            gradB = Tensor.zeros(d);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            closeAll(a, b, gradA, gradB);
        }
    }

    /**
     * The backend's fused feature-matching kernel, forward and backward in one pass: mean((a − b)²),
     * gradA = 2(a − b)/N, gradB = −gradA. 16 B/element: a r, b r, gradA w, gradB w.
     */
    @Benchmark
    public double featureMatching(FeatureState s) {
        return s.be.featureMatching(s.a, s.b, s.gradA, s.gradB);
    }

    // ------------------------------------------------------------------ softmax cross-entropy

    /** ImageNet logits for a batch of 64 and of 256. */
    @State(Scope.Benchmark)
    public static class LogitsState {
        @Param({"64x1000", "256x1000"})
        public String logits;

        Backend be;
        Tensor x, grad;
        int rows, cols;
        int[] labels;

        @Setup(Level.Trial)
        public void setup() {
            be = cpu();
            int[] d = dims(logits);
            rows = d[0];
            cols = d[1];
            x = Tensor.randn(7, 3f, d);
            grad = Tensor.zeros(d);
            SplittableRandom r = new SplittableRandom(8);
            labels = new int[rows];
            for (int i = 0; i < rows; i++) labels[i] = r.nextInt(cols);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            closeAll(x, grad);
        }
    }

    /**
     * The backend's fused softmax cross-entropy, the mean loss and its gradient in one call.
     * 8 B/element: logits r, gradient w.
     */
    @Benchmark
    public double softmaxCrossEntropy(LogitsState s) {
        return s.be.softmaxCrossEntropy(s.x, s.rows, s.cols, s.labels, s.grad, 1f, null);
    }

    // ------------------------------------------------------------------ elementwise

    @State(Scope.Benchmark)
    public static class ElementwiseState {
        Backend be;
        Tensor a, b, out;

        @Setup(Level.Trial)
        public void setup() {
            be = cpu();
            a = Tensor.randn(9, 1f, IMAGE);
            b = Tensor.randn(10, 1f, IMAGE);
            out = Tensor.zeros(IMAGE);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            closeAll(a, b, out);
        }
    }

    /**
     * {@link Ops#add} as a model calls it: the sum in a new tensor, freed when its scope closes.
     * 12 B/element: a r, b r, out w (the allocation and the first touch of the new pages are part of
     * the time).
     */
    @Benchmark
    public float addFresh(ElementwiseState s) {
        try (dev.advinterp.engine.Scope scope = dev.advinterp.engine.Scope.open()) {
            return Ops.add(s.a, s.b).get(0);
        }
    }

    /**
     * The same sum into an existing tensor: Ops has no add-into, so the backend's
     * {@code axpby(1, a, 1, b, out)}, which is the kernel Ops.add calls. 12 B/element.
     */
    @Benchmark
    public void addInto(ElementwiseState s) {
        s.be.axpby(1f, s.a, 1f, s.b, s.out);
    }

    /** {@link Ops#relu} into a new tensor. 8 B/element: x r, y w. */
    @Benchmark
    public float reluFresh(ElementwiseState s) {
        try (dev.advinterp.engine.Scope scope = dev.advinterp.engine.Scope.open()) {
            return Ops.relu(s.a).get(0);
        }
    }

    /** The backend's ReLU forward into an existing tensor (the kernel Ops.relu calls). 8 B/element. */
    @Benchmark
    public void reluInto(ElementwiseState s) {
        s.be.reluForward(s.a, s.out);
    }

    /** "64x512x7x7" → {64, 512, 7, 7}. */
    static int[] dims(String name) {
        String[] p = name.split("x");
        int[] d = new int[p.length];
        for (int i = 0; i < p.length; i++) d[i] = Integer.parseInt(p[i]);
        return d;
    }
}
