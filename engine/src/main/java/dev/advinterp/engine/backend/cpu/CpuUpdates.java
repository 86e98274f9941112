package dev.advinterp.engine.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** The fused in-place updates: the FGSM step and SGD with momentum. */
final class CpuUpdates {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private CpuUpdates() {
    }

    /**
     * x ← clip(x + α·sign(g), max(x0 − ε, lo[c]), min(x0 + ε, hi[c])), sign(0) = 0, per plane of
     * {@code inner} elements whose channel is {@code plane % channels}. Reads x, g, x0 and writes x:
     * 16 bytes per element.
     */
    static void fgsmStep(MemorySegment x, MemorySegment g, MemorySegment x0, float alpha, float eps, float[] lo, float[] hi,
                         int planes, int channels, int inner) {
        Parallel.forRange(planes, Math.max(1, CpuElementwise.GRAIN / Math.max(1, inner)), (s, e) -> {
            for (int pl = s; pl < e; pl++) {
                int c = lo.length == 1 ? 0 : pl % channels;
                float l = lo[c], h = hi[c];
                long b = (long) pl * inner;
                for (int i = 0; i < inner; i++) {
                    long idx = b + i;
                    float gv = g.getAtIndex(F, idx);
                    float sign = gv > 0f ? 1f : (gv < 0f ? -1f : 0f);
                    float v = x.getAtIndex(F, idx) + alpha * sign;
                    float o = x0.getAtIndex(F, idx);
                    float lower = Math.max(o - eps, l), upper = Math.min(o + eps, h);
                    x.setAtIndex(F, idx, Math.min(Math.max(v, lower), upper));
                }
            }
        });
    }

    /**
     * PyTorch's SGD: g ← grad + wd·p; buf ← momentum·buf + (1 − dampening)·g;
     * p ← p − lr·(nesterov ? g + momentum·buf : buf); without momentum p ← p − lr·g.
     */
    static void sgd(MemorySegment p, MemorySegment grad, MemorySegment buf, float lr, float momentum, float dampening,
                    float wd, boolean nesterov, long n) {
        CpuElementwise.forBlocks(n, (s, e) -> {
            for (long i = s; i < e; i++) {
                float pv = p.getAtIndex(F, i);
                float g = grad.getAtIndex(F, i) + wd * pv;
                if (momentum != 0f) {
                    float b = momentum * buf.getAtIndex(F, i) + (1f - dampening) * g;
                    buf.setAtIndex(F, i, b);
                    g = nesterov ? g + momentum * b : b;
                }
                p.setAtIndex(F, i, pv - lr * g);
            }
        });
    }
}
