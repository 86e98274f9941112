package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.ChannelsLast;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Shape;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.ConvGeometry;
import dev.advinterp.engine.backend.PoolGeometry;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Locale;

import static java.lang.foreign.ValueLayout.ADDRESS;

/**
 * Which of oneDNN and the engine's Java kernels should run max pooling and batch normalisation on
 * NCHW tensors: both timed on ResNet-18's shapes (224 px batch 8, 32 px batch 64), in one process,
 * as a Markdown table; then the image's gradient (the backward-data pass of each benchmarked
 * model's first convolution) by oneDNN and by the im2col path (CpuConv2d: the GEMM and col2im,
 * or Winograd where it applies). oneDNN's batch normalisation is built here for the comparison only; the
 * backend uses DnnlPooling and CpuBatchNorm, as this measured. (In this package because the
 * kernels are package-private.)
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *      -cp bench/target/benchmarks.jar dev.advinterp.engine.backend.cpu.DnnlOpsComparison
 * </pre>
 *
 * Each figure is the best of 5 rounds of 10 calls after 30 warm-up calls, in milliseconds per call.
 */
public final class DnnlOpsComparison {
    private DnnlOpsComparison() {
    }

    private static double millis(Runnable r) {
        for (int i = 0; i < 30; i++) r.run();
        double best = Double.MAX_VALUE;
        for (int round = 0; round < 5; round++) {
            long t = System.nanoTime();
            for (int i = 0; i < 10; i++) r.run();
            best = Math.min(best, (System.nanoTime() - t) / 1e6 / 10);
        }
        return best;
    }

    public static void main(String[] args) throws Throwable {
        Dnnl dnnl = Dnnl.load().dnnl().orElseThrow(() -> new IllegalStateException("oneDNN did not load: " + Dnnl.load().attempts()));
        System.out.println("oneDNN " + dnnl.version() + ", " + Parallel.THREADS + " threads; ms per call, best of 5 rounds of 10\n");
        System.out.println("| op | shape | oneDNN | Java | Java/oneDNN |");
        System.out.println("|---|---|---:|---:|---:|");
        DnnlPooling pooling = new DnnlPooling(dnnl, new CpuPool(), false); // whichever implementation oneDNN chose, JIT or not
        CpuPool java = new CpuPool();
        for (PoolGeometry g : List.of(new PoolGeometry(8, 64, 112, 112, 3, 3, 2, 2, 1, 1), new PoolGeometry(64, 64, 32, 32, 3, 3, 2, 2, 1, 1))) {
            try (Scope s = Scope.open()) {
                Tensor x = Tensor.randn(1, 1f, g.n(), g.c(), g.h(), g.w()), y = Tensor.zeros(g.n(), g.c(), g.outH(), g.outW());
                Tensor dy = Tensor.randn(2, 1f, g.n(), g.c(), g.outH(), g.outW()), dx = Tensor.zeros(g.n(), g.c(), g.h(), g.w());
                java.maxForward(x, g, y);
                String shape = g.n() + "×" + g.c() + "×" + g.h() + "×" + g.w() + ", 3×3/2 (" + pooling.implementation(true, g).orElseThrow() + ")";
                row("max pool forward", shape, millis(() -> pooling.maxForward(x, g, y)), millis(() -> java.maxForward(x, g, y)));
                row("max pool backward", shape, millis(() -> pooling.maxBackward(x, y, dy, g, dx)), millis(() -> java.maxBackward(x, y, dy, g, dx)));
            }
        }
        CpuBatchNorm bn = new CpuBatchNorm();
        int[][] shapes = {{8, 64, 112, 112}, {8, 64, 56, 56}, {8, 128, 28, 28}, {8, 256, 14, 14}, {8, 512, 7, 7}, {64, 64, 32, 32}, {64, 512, 4, 4}};
        for (int[] sh : shapes) {
            try (Scope s = Scope.open(); Arena a = Arena.ofConfined()) {
                int n = sh[0], c = sh[1], h = sh[2], w = sh[3];
                Tensor x = Tensor.randn(1, 1f, n, c, h, w), y = Tensor.zeros(n, c, h, w), dy = Tensor.randn(5, 1f, n, c, h, w), dx = Tensor.zeros(n, c, h, w);
                Tensor gamma = Tensor.randn(3, 1f, c), beta = Tensor.randn(4, 1f, c), runningMean = Tensor.zeros(c), runningVar = Tensor.full(Shape.of(c), 1f);
                Tensor mean = Tensor.zeros(c), invStd = Tensor.zeros(c), variance = Tensor.zeros(c), dgamma = Tensor.zeros(c), dbeta = Tensor.zeros(c);
                MemorySegment data = DnnlPlan.desc(dnnl, a, Dnnl.TAG_ABCD, n, c, h, w), channels = DnnlPlan.desc(dnnl, a, Dnnl.TAG_A, c);
                MemorySegment out = a.allocate(ADDRESS);
                int flags = Dnnl.USE_SCALE | Dnnl.USE_SHIFT;
                Dnnl.check((int) dnnl.bnormForwardPd.invokeExact(out, dnnl.engine, Dnnl.FORWARD_TRAINING, data, data, 1e-5f, flags, dnnl.userScratchpad),
                        "dnnl_batch_normalization_forward_primitive_desc_create");
                MemorySegment forwardPd = out.get(ADDRESS, 0);
                DnnlPlan forward = new DnnlPlan(dnnl, "batch norm forward", forwardPd, List.of(DnnlPlan.Arg.in(Dnnl.ARG_SRC, data),
                        DnnlPlan.Arg.out(Dnnl.ARG_DST, data), DnnlPlan.Arg.in(Dnnl.ARG_SCALE, channels), DnnlPlan.Arg.in(Dnnl.ARG_SHIFT, channels),
                        DnnlPlan.Arg.out(Dnnl.ARG_MEAN, channels), DnnlPlan.Arg.out(Dnnl.ARG_VARIANCE, channels)));
                Dnnl.check((int) dnnl.bnormBackwardPd.invokeExact(out, dnnl.engine, Dnnl.BACKWARD, data, data, data, 1e-5f, flags, forwardPd,
                        dnnl.userScratchpad), "dnnl_batch_normalization_backward_primitive_desc_create");
                MemorySegment backwardPd = out.get(ADDRESS, 0);
                DnnlPlan backward = new DnnlPlan(dnnl, "batch norm backward", backwardPd, List.of(DnnlPlan.Arg.in(Dnnl.ARG_SRC, data),
                        DnnlPlan.Arg.in(Dnnl.ARG_DIFF_DST, data), DnnlPlan.Arg.in(Dnnl.ARG_SCALE, channels), DnnlPlan.Arg.in(Dnnl.ARG_MEAN, channels),
                        DnnlPlan.Arg.in(Dnnl.ARG_VARIANCE, channels), DnnlPlan.Arg.out(Dnnl.ARG_DIFF_SRC, data), DnnlPlan.Arg.out(Dnnl.ARG_DIFF_SCALE, channels),
                        DnnlPlan.Arg.out(Dnnl.ARG_DIFF_SHIFT, channels)));
                dnnl.destroyPd(backwardPd);
                dnnl.destroyPd(forwardPd);
                dnnl.destroyMds(data, channels);
                String shape = n + "×" + c + "×" + h + "×" + w;
                row("batch norm forward (training)", shape,
                        millis(() -> forward.run(x.segment(), y.segment(), gamma.segment(), beta.segment(), mean.segment(), variance.segment())),
                        millis(() -> bn.trainForward(x, gamma, beta, runningMean, runningVar, 0.1f, 1e-5f, y, mean, invStd)));
                forward.run(x.segment(), y.segment(), gamma.segment(), beta.segment(), mean.segment(), variance.segment());
                double oneDnnBackward = millis(() -> backward.run(x.segment(), dy.segment(), gamma.segment(), mean.segment(), variance.segment(),
                        dx.segment(), dgamma.segment(), dbeta.segment()));
                bn.trainForward(x, gamma, beta, runningMean, runningVar, 0.1f, 1e-5f, y, mean, invStd);
                row("batch norm backward", shape, oneDnnBackward, millis(() -> bn.trainBackward(x, dy, gamma, mean, invStd, 1e-5f, dx, dgamma, dbeta)));
            }
        }
        imageGradients(dnnl);
    }

    /** The first convolution of each benchmarked model: batch, input size, kernel, stride, padding. */
    static final List<ConvGeometry> FIRST_LAYERS = List.of(
            new ConvGeometry(8, 3, 224, 224, 64, 7, 7, 2, 2, 3, 3),    // ResNet-18, 224 px
            new ConvGeometry(64, 3, 32, 32, 64, 3, 3, 1, 1, 1, 1),     // ResNet-18 and VGG-16, 32 px
            new ConvGeometry(8, 3, 224, 224, 64, 3, 3, 1, 1, 1, 1),    // VGG-16, 224 px
            new ConvGeometry(8, 3, 224, 224, 64, 11, 11, 4, 4, 2, 2),  // AlexNet, 224 px
            new ConvGeometry(64, 3, 64, 64, 64, 11, 11, 4, 4, 2, 2));  // AlexNet, 64 px

    private static void imageGradients(Dnnl dnnl) {
        CpuConv2d java = new CpuConv2d(CpuBackend.instance().gemmImpl());
        DnnlConvolution oneDnn = new DnnlConvolution(dnnl, java, ChannelsLast.Mode.OFF);
        for (ConvGeometry g : FIRST_LAYERS) {
            try (Scope s = Scope.open()) {
                Tensor w = Tensor.randn(1, 0.1f, g.cOut(), g.cIn(), g.kh(), g.kw()), dy = Tensor.randn(2, 1f, g.n(), g.cOut(), g.outH(), g.outW());
                Tensor dx = Tensor.zeros(g.n(), g.cIn(), g.h(), g.w());
                String shape = g.n() + "×" + g.cIn() + "×" + g.h() + "×" + g.w() + " → " + g.cOut() + ", " + g.kh() + "×" + g.kw() + "/" + g.strideH();
                row("convolution backward-data (image gradient)", shape, millis(() -> oneDnn.oneDnnBackwardData(dy, w, g, dx)),
                        millis(() -> java.backwardData(dy, w, g, dx)));
            }
        }
    }

    private static void row(String op, String shape, double oneDnn, double java) {
        System.out.printf(Locale.ROOT, "| %s | %s | %.2f | %.2f | %.2f |%n", op, shape, oneDnn, java, java / oneDnn);
    }
}
