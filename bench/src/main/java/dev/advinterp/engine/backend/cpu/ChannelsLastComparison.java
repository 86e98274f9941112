package dev.advinterp.engine.backend.cpu;

import dev.advinterp.bench.ConvLayer;
import dev.advinterp.engine.ChannelsLast;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.ConvGeometry;

import java.util.Locale;
import java.util.function.Supplier;

/**
 * ResNet-18's convolution passes on oneDNN with NCHW tensors (the kernels oneDNN picks for
 * {@code format_tag_any}, the plan's reorders on each side included) beside the same passes on
 * channels-last tensors ({@code advinterp.channels.last}: NHWC in and out, no reorder of the
 * activations), one layer at a time, as a Markdown table. Each figure is the best of 10 calls
 * after 3 warm-up calls, in milliseconds per call: every tensor is warm in the caches, which a
 * whole training step does not give the backward passes. (In this package because the kernels are
 * package-private.)
 *
 * <pre>
 * java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
 *      -cp bench/target/benchmarks.jar dev.advinterp.engine.backend.cpu.ChannelsLastComparison
 * </pre>
 */
public final class ChannelsLastComparison {
    private ChannelsLastComparison() {
    }

    private static double millis(Runnable r) {
        for (int i = 0; i < 3; i++) r.run();
        double best = Double.MAX_VALUE;
        for (int i = 0; i < 10; i++) {
            long t = System.nanoTime();
            r.run();
            best = Math.min(best, (System.nanoTime() - t) / 1e6);
        }
        return best;
    }

    public static void main(String[] args) {
        Dnnl dnnl = Dnnl.load().dnnl().orElseThrow(() -> new IllegalStateException("oneDNN did not load: " + Dnnl.load().attempts()));
        CpuConv2d reference = new CpuConv2d(CpuBackend.instance().gemmImpl());
        DnnlConvolution nchw = new DnnlConvolution(dnnl, reference, ChannelsLast.Mode.OFF), nhwc = new DnnlConvolution(dnnl, reference, ChannelsLast.Mode.ON);
        System.out.println("oneDNN " + dnnl.version() + ", " + Parallel.THREADS + " threads; ms per call, best of 10; NCHW includes its reorders\n");
        System.out.println("| layer | pass | NCHW | NHWC | NHWC/NCHW |");
        System.out.println("|---|---|---:|---:|---:|");
        double[] total = new double[2];
        for (ConvLayer layer : ConvLayer.ALL) {
            ConvGeometry g = layer.geometry();
            if (g.kh() != 3 || g.cIn() < 16) continue;
            try (Scope s = Scope.open()) {
                Tensor x = Tensor.randn(1, 1f, g.n(), g.cIn(), g.h(), g.w()), w = Tensor.randn(2, 0.1f, g.cOut(), g.cIn(), g.kh(), g.kw());
                Tensor dy = Tensor.randn(3, 1f, g.n(), g.cOut(), g.outH(), g.outW());
                Tensor xl = x.copy(), dyl = dy.copy();
                CpuChannelsLast.store(xl, CpuChannelsLast.layout(g.n(), g.cIn(), g.h(), g.w()));
                CpuChannelsLast.store(dyl, CpuChannelsLast.layout(g.n(), g.cOut(), g.outH(), g.outW()));
                Tensor y = Tensor.zeros(g.n(), g.cOut(), g.outH(), g.outW()), dx = Tensor.zeros(g.n(), g.cIn(), g.h(), g.w());
                Tensor dw = Tensor.zeros(g.cOut(), g.cIn(), g.kh(), g.kw());
                row(layer.name(), "forward", total, () -> millis(() -> nchw.forward(x, w, null, g, y)), () -> millis(() -> nhwc.forward(xl, w, null, g, y)));
                row(layer.name(), "backward data", total, () -> millis(() -> nchw.backwardData(dy, w, g, dx)), () -> millis(() -> nhwc.backwardData(dyl, w, g, dx)));
                row(layer.name(), "backward weights", total, () -> millis(() -> nchw.backwardFilter(x, dy, g, dw, null)),
                        () -> millis(() -> nhwc.backwardFilter(xl, dyl, g, dw, null)));
            }
        }
        System.out.printf(Locale.ROOT, "| all | | %.2f | %.2f | %.2f |%n", total[0], total[1], total[1] / total[0]);
    }

    private static void row(String layer, String pass, double[] total, Supplier<Double> nchw, Supplier<Double> nhwc) {
        double a = nchw.get(), b = nhwc.get();
        total[0] += a;
        total[1] += b;
        System.out.printf(Locale.ROOT, "| %s | %s | %.2f | %.2f | %.2f |%n", layer, pass, a, b, b / a);
    }
}
