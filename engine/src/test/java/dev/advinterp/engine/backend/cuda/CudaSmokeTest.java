package dev.advinterp.engine.backend.cuda;

import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Shape;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.Backends;
import dev.advinterp.engine.backend.ConvGeometry;
import dev.advinterp.engine.backend.cpu.CpuBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A few real CUDA operations against the CPU backend: allocation and a copy round trip, a GEMM, a
 * convolution, an FGSM step. Skipped, with the reason, where CUDA cannot be opened (the broad
 * comparison of every primitive is CudaConformanceTest).
 */
class CudaSmokeTest {
    private static CudaBackend gpu;
    private static final CpuBackend cpu = CpuBackend.instance();

    @BeforeAll
    static void open() {
        if (CudaBackend.unavailableReason().isEmpty()) gpu = CudaBackend.open(0);
    }

    /** Per test rather than per class, so that each test is reported skipped with the reason. */
    @BeforeEach
    void requireGpu() {
        assumeTrue(gpu != null, () -> "CUDA not available: " + CudaBackend.unavailableReason().orElse(""));
    }

    @AfterAll
    static void close() {
        if (gpu != null) gpu.close();
    }

    private static float[] random(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        return v;
    }

    private static Tensor on(dev.advinterp.engine.backend.Backend b, float[] v, int... dims) {
        Tensor t = Tensor.empty(b, Shape.of(dims), "smoke");
        b.copyFromHost(v, 0, t);
        return t;
    }

    private static float[] host(Tensor t) {
        float[] out = new float[(int) t.numel()];
        Backends.of(t).copyToHost(t, out, 0);
        return out;
    }

    private static void close(float[] want, float[] got, float tol) {
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], tol * Math.max(1, Math.abs(want[i])), "element " + i);
        }
    }

    @Test
    void copyRoundTripIsExactAndMemoryIsAccounted() {
        try (Scope s = Scope.open()) {
            float[] v = random(1, 1000);
            v[3] = Float.NaN;
            v[4] = -0f;
            Tensor t = on(gpu, v, 10, 100);
            Tensor u = Tensor.empty(gpu, Shape.of(10, 100), "smoke");
            gpu.copy(t, u);
            assertArrayEquals(v, host(u));
            assertTrue(gpu.memoryStats().inUseBytes() >= 2 * 1000 * 4);
            gpu.fill(u, 2.5f);
            float[] filled = host(u);
            for (float f : filled) assertEquals(2.5f, f);
        }
    }

    @Test
    void gemmMatchesTheCpu() {
        try (Scope s = Scope.open()) {
            float[] a = random(2, 12), b = random(3, 20), c0 = random(4, 15);
            Tensor ga = on(gpu, a, 3, 4), gb = on(gpu, b, 4, 5), gc = on(gpu, c0, 3, 5);
            Tensor ca = on(cpu, a, 3, 4), cb = on(cpu, b, 4, 5), cc = on(cpu, c0, 3, 5);
            gpu.gemm(false, false, 3, 5, 4, 1.5f, ga, 0, 4, gb, 0, 5, 0.5f, gc, 0, 5);
            cpu.gemm(false, false, 3, 5, 4, 1.5f, ca, 0, 4, cb, 0, 5, 0.5f, cc, 0, 5);
            close(host(cc), host(gc), 1e-5f);
            // transposed operands: Aᵀ stored 4×3, Bᵀ stored 5×4
            Tensor gat = on(gpu, a, 4, 3), gbt = on(gpu, b, 5, 4), cat = on(cpu, a, 4, 3), cbt = on(cpu, b, 5, 4);
            gpu.gemm(true, true, 3, 5, 4, 1f, gat, 0, 3, gbt, 0, 4, 0f, gc, 0, 5);
            cpu.gemm(true, true, 3, 5, 4, 1f, cat, 0, 3, cbt, 0, 4, 0f, cc, 0, 5);
            close(host(cc), host(gc), 1e-5f);
        }
    }

    @Test
    void convolutionWithBiasMatchesTheCpu() {
        ConvGeometry g = new ConvGeometry(2, 3, 9, 9, 4, 3, 3, 2, 2, 1, 1);
        try (Scope s = Scope.open()) {
            float[] x = random(5, 2 * 3 * 81), w = random(6, 4 * 3 * 9), bias = random(7, 4);
            int oh = g.outH(), ow = g.outW();
            Tensor gy = Tensor.empty(gpu, Shape.of(2, 4, oh, ow), "smoke"), cy = Tensor.empty(cpu, Shape.of(2, 4, oh, ow), "smoke");
            gpu.conv2dForward(on(gpu, x, 2, 3, 9, 9), on(gpu, w, 4, 3, 3, 3), on(gpu, bias, 4), g, gy);
            cpu.conv2dForward(on(cpu, x, 2, 3, 9, 9), on(cpu, w, 4, 3, 3, 3), on(cpu, bias, 4), g, cy);
            close(host(cy), host(gy), 1e-4f);
        }
    }

    @Test
    void fgsmStepMatchesTheCpuExactly() {
        try (Scope s = Scope.open()) {
            float[] x = random(8, 2 * 3 * 16), grad = random(9, 2 * 3 * 16), x0 = x.clone();
            grad[5] = 0f;
            float[] lo = {-0.5f, -0.4f, -0.3f}, hi = {0.5f, 0.6f, 0.7f};
            Tensor gx = on(gpu, x, 2, 3, 4, 4), cx = on(cpu, x, 2, 3, 4, 4);
            for (int step = 0; step < 3; step++) {
                gpu.fgsmStep(gx, on(gpu, grad, 2, 3, 4, 4), on(gpu, x0, 2, 3, 4, 4), 0.1f, 0.25f, lo, hi);
                cpu.fgsmStep(cx, on(cpu, grad, 2, 3, 4, 4), on(cpu, x0, 2, 3, 4, 4), 0.1f, 0.25f, lo, hi);
            }
            assertArrayEquals(host(cx), host(gx));
        }
    }

    @Test
    void aCpuTensorIsRefusedBeforeAnyNativeCall() {
        try (Scope s = Scope.open()) {
            Tensor c = on(cpu, random(1, 4), 2, 2);
            assertThrows(IllegalArgumentException.class, () -> gpu.fill(c, 0f));
        }
    }
}
