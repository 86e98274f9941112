package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.ChannelsLast;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.DropoutMask;
import dev.advinterp.engine.backend.ElementwiseKernels;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Elementwise kernels: one read and one write per element (memory-bound; 8 bytes per element
 * for the unary ones, 12 for the binary ones), vectorised with the Vector API and split over the
 * pool in blocks of {@link #GRAIN} elements. ReLU, its backward and the sums run on the stored
 * bytes when an input is channels-last ({@link CpuChannelsLast#common}) and leave the output in
 * that layout; the others read row-major.
 */
final class CpuElementwise implements ElementwiseKernels {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();
    static final int GRAIN = 1 << 15;

    /** Java on bounds-checked segments. */
    @Override
    public boolean boundsChecked() {
        return true;
    }

    @Override
    public void addBias(Tensor y, Tensor bias, int outer, int channels, int inner) {
        addBias(y.segment(), bias.segment(), outer, channels, inner);
    }

    @Override
    public void channelAffine(Tensor x, Tensor scale, Tensor shift, int outer, int channels, int inner, Tensor y) {
        channelAffine(x.segment(), scale.segment(), shift == null ? null : shift.segment(), outer, channels, inner, y.segment());
    }

    @Override
    public void sumBias(Tensor dy, int outer, int channels, int inner, Tensor dbias) {
        sumBias(dy.segment(), outer, channels, inner, dbias.segment());
    }

    @Override
    public void reluForward(Tensor x, Tensor y) {
        ChannelsLast l = CpuChannelsLast.common(x);
        relu(bytes(x, l), bytes(y, l), x.numel());
        if (l != null) y.storeAs(l);
    }

    @Override
    public void reluBackward(Tensor y, Tensor dy, Tensor dx) {
        ChannelsLast l = CpuChannelsLast.common(y, dy);
        reluBackward(bytes(y, l), bytes(dy, l), bytes(dx, l), y.numel());
        if (l != null) dx.storeAs(l);
    }

    @Override
    public void dropoutForward(Tensor x, float p, long seed, Tensor y) {
        dropout(x.segment(), p, seed, y.segment(), x.numel());
    }

    @Override
    public void dropoutBackward(Tensor dy, float p, long seed, Tensor dx) {
        dropout(dy.segment(), p, seed, dx.segment(), dy.numel());
    }

    @Override
    public void axpby(float a, Tensor x, float b, Tensor y, Tensor out) {
        ChannelsLast l = CpuChannelsLast.common(x, y);
        axpby(a, bytes(x, l), b, bytes(y, l), bytes(out, l), out.numel());
        if (l != null) out.storeAs(l);
    }

    @Override
    public void scale(Tensor x, float a, Tensor out) {
        ChannelsLast l = CpuChannelsLast.common(x);
        scale(bytes(x, l), a, bytes(out, l), out.numel());
        if (l != null) out.storeAs(l);
    }

    /** An operand's bytes: as stored when the kernel runs in the inputs' channels-last layout {@code l}, else row-major. */
    private static MemorySegment bytes(Tensor t, ChannelsLast l) {
        return CpuChannelsLast.bytes(t, l != null);
    }

    // ------------------------------------------------------------------ on segments

    /** out = a·x + b·y. */
    static void axpby(float a, MemorySegment x, float b, MemorySegment y, MemorySegment out, long n) {
        forBlocks(n, (s, e) -> {
            long i = s;
            long bound = s + S.loopBound(e - s);
            for (; i < bound; i += S.length()) {
                FloatVector vx = FloatVector.fromMemorySegment(S, x, i * 4, NATIVE);
                FloatVector vy = FloatVector.fromMemorySegment(S, y, i * 4, NATIVE);
                vx.mul(a).add(vy.mul(b)).intoMemorySegment(out, i * 4, NATIVE);
            }
            for (; i < e; i++) out.setAtIndex(F, i, a * x.getAtIndex(F, i) + b * y.getAtIndex(F, i));
        });
    }

    static void scale(MemorySegment x, float a, MemorySegment out, long n) {
        forBlocks(n, (s, e) -> scale(x, a, out, s, e));
    }

    /** out[i] = a·x[i] over [s, e), on the calling thread. */
    static void scale(MemorySegment x, float a, MemorySegment out, long s, long e) {
        long i = s;
        long bound = s + S.loopBound(e - s);
        for (; i < bound; i += S.length()) {
            FloatVector.fromMemorySegment(S, x, i * 4, NATIVE).mul(a).intoMemorySegment(out, i * 4, NATIVE);
        }
        for (; i < e; i++) out.setAtIndex(F, i, a * x.getAtIndex(F, i));
    }

    static void relu(MemorySegment x, MemorySegment y, long n) {
        forBlocks(n, (s, e) -> {
            long i = s;
            long bound = s + S.loopBound(e - s);
            for (; i < bound; i += S.length()) {
                FloatVector.fromMemorySegment(S, x, i * 4, NATIVE).max(0f).intoMemorySegment(y, i * 4, NATIVE);
            }
            for (; i < e; i++) y.setAtIndex(F, i, Math.max(0f, x.getAtIndex(F, i)));
        });
    }

    /** dx = dy where y &gt; 0, else 0 (so the gradient at 0 is 0, as in PyTorch). */
    static void reluBackward(MemorySegment y, MemorySegment dy, MemorySegment dx, long n) {
        forBlocks(n, (s, e) -> {
            long i = s;
            long bound = s + S.loopBound(e - s);
            for (; i < bound; i += S.length()) {
                FloatVector vy = FloatVector.fromMemorySegment(S, y, i * 4, NATIVE);
                FloatVector vd = FloatVector.fromMemorySegment(S, dy, i * 4, NATIVE);
                vd.blend(0f, vy.compare(VectorOperators.LE, 0f)).intoMemorySegment(dx, i * 4, NATIVE);
            }
            for (; i < e; i++) dx.setAtIndex(F, i, y.getAtIndex(F, i) > 0f ? dy.getAtIndex(F, i) : 0f);
        });
    }

    static void dropout(MemorySegment x, float p, long seed, MemorySegment y, long n) {
        float scale = 1f / (1f - p);
        forBlocks(n, (s, e) -> {
            for (long i = s; i < e; i++) {
                y.setAtIndex(F, i, DropoutMask.keep(seed, i, p) ? x.getAtIndex(F, i) * scale : 0f);
            }
        });
    }

    /** y[o, c, i] += bias[c]. */
    static void addBias(MemorySegment y, MemorySegment bias, int outer, int channels, int inner) {
        Parallel.forRange(outer * channels, Math.max(1, GRAIN / Math.max(1, inner)), (s, e) -> {
            for (int oc = s; oc < e; oc++) {
                long base = (long) oc * inner;
                CpuVectors.affine(y, 1f, bias.getAtIndex(F, oc % channels), y, base, base + inner); // y·1 + b is y + b
            }
        });
    }

    /** y[o, c, i] = scale[c]·x[o, c, i] + shift[c] (shift null: 0). */
    static void channelAffine(MemorySegment x, MemorySegment scale, MemorySegment shift, int outer, int channels, int inner,
                              MemorySegment y) {
        Parallel.forRange(outer * channels, Math.max(1, GRAIN / Math.max(1, inner)), (s, e) -> {
            for (int oc = s; oc < e; oc++) {
                float a = scale.getAtIndex(F, oc % channels);
                float b = shift == null ? 0f : shift.getAtIndex(F, oc % channels);
                long base = (long) oc * inner;
                CpuVectors.affine(x, a, b, y, base, base + inner);
            }
        });
    }

    /** dbias[c] = Σ dy[o, c, i], each channel summed in float64 in a fixed order ({@link CpuVectors#sumOfPlanes}). */
    static void sumBias(MemorySegment dy, int outer, int channels, int inner, MemorySegment dbias) {
        Parallel.forRange(channels, 1, (s, e) -> {
            for (int c = s; c < e; c++) {
                dbias.setAtIndex(F, c, (float) CpuVectors.sumOfPlanes(dy, (long) c * inner, (long) channels * inner, outer, inner));
            }
        });
    }

    interface LongRange {
        void run(long start, long end);
    }

    /** Splits [0, n) into blocks of GRAIN elements (a multiple of any vector length) over the pool. */
    static void forBlocks(long n, LongRange body) {
        long blocks = (n + GRAIN - 1) / GRAIN;
        if (blocks <= 1) {
            body.run(0, n);
            return;
        }
        Parallel.forRange(Math.toIntExact(blocks), 1, (s, e) -> body.run((long) s * GRAIN, Math.min(n, (long) e * GRAIN)));
    }
}
