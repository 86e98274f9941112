package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.ChannelsLast;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.PoolGeometry;
import dev.advinterp.engine.backend.PoolingKernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.ADDRESS;

/**
 * Max and average pooling on oneDNN, in the engine's NCHW layout (no reorders), or channels-last
 * where x (for the backward of average pooling, dy) is stored so ({@link CpuChannelsLast}): the
 * output is then channels-last too; adaptive average pooling stays on {@link CpuPool}.
 * Measured on ResNet-18's max pool (8×64×112×112, 3×3 stride 2,
 * padding 1; two AVX-512 cores; DnnlOpsComparison in the bench module): forward 3.2 ms against CpuPool's
 * 8.8 ms, backward 3.9 ms (the forward recomputed with its workspace, then the backward) against
 * 16.2 ms, the NaN checks below included.
 *
 * <p>oneDNN's max pooling keeps the first of equal maxima, as PyTorch does, but a NaN never wins a
 * comparison there, while PyTorch propagates it (and sends the gradient to the last NaN of the
 * window). A NaN therefore sends the call to CpuPool: the forward checks x (one vectorised pass on
 * all cores, 0.3–1.3 ms on the map above, warm or cold in the cache), the backward checks y, a
 * quarter of x's size, which holds a NaN exactly where a window of x does (y is x's pooling).
 *
 * <p>Max pooling's backward needs the forward's workspace (where each window's maximum was); the
 * Backend interface passes x and y instead, as cuDNN wants them, so the backward runs the training
 * forward again into a workspace held only for the call, then the backward. A geometry oneDNN
 * refuses goes to CpuPool as well.
 *
 * <p>oneDNN's JIT pooling kernels for the NCHW layout exist for some instruction sets only: on an
 * AVX2-only machine it falls back to its generic {@code simple_nchw} implementation, which measured
 * 30–50 ms a call on the map above (ResNet-18 at 224×224, batch 8, two cores), several times
 * CpuPool. So a geometry is served by oneDNN only where the implementation it chose is a JIT one
 * ({@link Dnnl#implementation}), and by CpuPool otherwise.
 */
final class DnnlPooling implements PoolingKernels {
    /** The workspace slot of the recomputed forward's output and workspace (the staging and scratchpads use {@link DnnlPlan}'s). */
    private static final int SLOT = 1;

    private final Dnnl dnnl;
    private final CpuPool fallback;
    /** Whether only JIT implementations serve (the backend's choice); the tests take any, to check the binding everywhere. */
    private final boolean jitOnly;
    private final Map<Key, Optional<Plans>> cache = new HashMap<>();

    /** A geometry's plans, for NCHW or (nhwc) channels-last tensors. */
    private record Key(boolean max, PoolGeometry g, boolean nhwc) {
    }

    /**
     * The plans of one geometry: the inference forward; the training forward, which also writes
     * the workspace (max pooling only; null for average); the backward; and the bytes of the
     * training forward's output and workspace; and the forward's implementation name.
     */
    private record Plans(DnnlPlan forward, DnnlPlan trainingForward, DnnlPlan backward, long dstBytes, long workspaceBytes,
                         String implementation) {
    }

    DnnlPooling(Dnnl dnnl, CpuPool fallback) {
        this(dnnl, fallback, true);
    }

    DnnlPooling(Dnnl dnnl, CpuPool fallback, boolean jitOnly) {
        this.dnnl = dnnl;
        this.fallback = fallback;
        this.jitOnly = jitOnly;
    }

    /** The backend's rule: oneDNN's pooling serves only with one of its JIT kernels (see the class comment). */
    static boolean isJit(String implementation) {
        return implementation.startsWith("jit");
    }

    /**
     * The implementation oneDNN runs max (or average) pooling of that geometry with, or empty where
     * CpuPool serves it: oneDNN refuses it, or, with jitOnly, has no JIT kernel for it.
     */
    Optional<String> implementation(boolean max, PoolGeometry g) {
        return plans(max, g, false).map(Plans::implementation);
    }

    @Override
    public boolean boundsChecked() {
        return false;
    }

    @Override
    public void maxForward(Tensor x, PoolGeometry g, Tensor y) {
        boolean nhwc = ChannelsLast.of(x) != null;
        Optional<Plans> p = hasNaN(x) ? Optional.empty() : plans(true, g, nhwc);
        if (p.isEmpty()) fallback.maxForward(x, g, y);
        else forward(p.get(), x, g, y, nhwc);
    }

    @Override
    public void maxBackward(Tensor x, Tensor y, Tensor dy, PoolGeometry g, Tensor dx) {
        boolean nhwc = ChannelsLast.of(x) != null;
        Optional<Plans> p = hasNaN(y) ? Optional.empty() : plans(true, g, nhwc);
        if (p.isEmpty()) {
            fallback.maxBackward(x, y, dy, g, dx);
            return;
        }
        Plans plans = p.get();
        // this thread's workspace: no other call writes it between the two runs
        MemorySegment scratch = Workspace.get(SLOT, (plans.dstBytes() + plans.workspaceBytes()) / Float.BYTES + 1);
        MemorySegment dst = scratch.asSlice(0, plans.dstBytes()), workspace = scratch.asSlice(plans.dstBytes(), plans.workspaceBytes());
        if (nhwc) CpuChannelsLast.store(dy, CpuChannelsLast.layout(g.n(), g.c(), g.outH(), g.outW()));
        plans.trainingForward().run(CpuChannelsLast.bytes(x, nhwc), dst, workspace);
        plans.backward().run(CpuChannelsLast.bytes(dy, nhwc), workspace, CpuChannelsLast.bytes(dx, nhwc));
        if (nhwc) dx.storeAs(CpuChannelsLast.layout(g.n(), g.c(), g.h(), g.w()));
    }

    @Override
    public void avgForward(Tensor x, PoolGeometry g, Tensor y) {
        boolean nhwc = ChannelsLast.of(x) != null;
        Optional<Plans> p = plans(false, g, nhwc);
        if (p.isEmpty()) fallback.avgForward(x, g, y);
        else forward(p.get(), x, g, y, nhwc);
    }

    @Override
    public void avgBackward(Tensor x, Tensor y, Tensor dy, PoolGeometry g, Tensor dx) {
        boolean nhwc = ChannelsLast.of(dy) != null;
        Optional<Plans> p = plans(false, g, nhwc);
        if (p.isEmpty()) {
            fallback.avgBackward(x, y, dy, g, dx);
            return;
        }
        p.get().backward().run(CpuChannelsLast.bytes(dy, nhwc), CpuChannelsLast.bytes(dx, nhwc));
        if (nhwc) dx.storeAs(CpuChannelsLast.layout(g.n(), g.c(), g.h(), g.w()));
    }

    /** The inference forward; a channels-last x gives a channels-last y. */
    private static void forward(Plans p, Tensor x, PoolGeometry g, Tensor y, boolean nhwc) {
        p.forward().run(CpuChannelsLast.bytes(x, nhwc), CpuChannelsLast.bytes(y, nhwc));
        if (nhwc) y.storeAs(CpuChannelsLast.layout(g.n(), g.c(), g.outH(), g.outW()));
    }

    @Override
    public void adaptiveAvgForward(Tensor x, Tensor y) {
        fallback.adaptiveAvgForward(x, y);
    }

    @Override
    public void adaptiveAvgBackward(Tensor dy, Tensor dx) {
        fallback.adaptiveAvgBackward(dy, dx);
    }

    /** Whether t holds a NaN, checked in blocks of 4096 on all cores (in whatever layout it is stored). */
    private static boolean hasNaN(Tensor t) {
        MemorySegment s = CpuChannelsLast.bytes(t, t.storedLayout() != null);
        long n = t.numel();
        int blocks = (int) Math.min(Integer.MAX_VALUE, (n + 4095) / 4096);
        AtomicBoolean found = new AtomicBoolean();
        Parallel.forRange(blocks, 16, (b0, b1) -> {
            if (CpuVectors.hasNaN(s, b0 * 4096L, Math.min(n, b1 * 4096L))) found.set(true);
        });
        return found.get();
    }

    private synchronized Optional<Plans> plans(boolean max, PoolGeometry g, boolean nhwc) {
        return cache.computeIfAbsent(new Key(max, g, nhwc), this::create);
    }

    /** The plans of a geometry, or empty where oneDNN refuses it or (jitOnly) has no JIT kernel for it. */
    private Optional<Plans> create(Key key) {
        PoolGeometry g = key.g();
        int alg = key.max() ? Dnnl.POOLING_MAX : Dnnl.POOLING_AVG_INCLUDE_PADDING;
        try (Arena a = Arena.ofConfined()) {
            int tag = key.nhwc() ? Dnnl.TAG_ACDB : Dnnl.TAG_ABCD;
            MemorySegment src = DnnlPlan.desc(dnnl, a, tag, g.n(), g.c(), g.h(), g.w());
            MemorySegment dst = DnnlPlan.desc(dnnl, a, tag, g.n(), g.c(), g.outH(), g.outW());
            MemorySegment strides = DnnlPlan.dims(a, g.strideH(), g.strideW()), kernel = DnnlPlan.dims(a, g.kh(), g.kw());
            MemorySegment dilation = DnnlPlan.dims(a, 0, 0), pad = DnnlPlan.dims(a, g.padH(), g.padW());
            MemorySegment out = a.allocate(ADDRESS);
            String name = (key.max() ? "max" : "average") + " pooling " + g;
            if ((int) dnnl.poolForwardPd.invokeExact(out, dnnl.engine, Dnnl.FORWARD_INFERENCE, alg, src, dst, strides, kernel, dilation, pad, pad,
                    dnnl.userScratchpad) != 0) {
                dnnl.destroyMds(src, dst);
                return Optional.empty();
            }
            MemorySegment inferencePd = out.get(ADDRESS, 0);
            String implementation = dnnl.implementation(inferencePd);
            if (jitOnly && !isJit(implementation)) {
                dnnl.destroyPd(inferencePd);
                dnnl.destroyMds(src, dst);
                return Optional.empty();
            }
            DnnlPlan forward = new DnnlPlan(dnnl, name + " forward", inferencePd, List.of(DnnlPlan.Arg.in(Dnnl.ARG_SRC, src), DnnlPlan.Arg.out(Dnnl.ARG_DST, dst)));
            dnnl.destroyPd(inferencePd);
            Dnnl.check((int) dnnl.poolForwardPd.invokeExact(out, dnnl.engine, Dnnl.FORWARD_TRAINING, alg, src, dst, strides, kernel, dilation, pad, pad,
                    dnnl.userScratchpad), "dnnl_pooling_forward_primitive_desc_create");
            MemorySegment trainingPd = out.get(ADDRESS, 0);
            Dnnl.check((int) dnnl.poolBackwardPd.invokeExact(out, dnnl.engine, alg, src, dst, strides, kernel, dilation, pad, pad, trainingPd,
                    dnnl.userScratchpad), "dnnl_pooling_backward_primitive_desc_create");
            MemorySegment backwardPd = out.get(ADDRESS, 0);
            Plans plans;
            if (key.max()) {
                MemorySegment workspace = (MemorySegment) dnnl.pdQueryMd.invokeExact(trainingPd, Dnnl.QUERY_WORKSPACE_MD, 0);
                long workspaceBytes = (long) dnnl.memoryDescGetSize.invokeExact(workspace), dstBytes = (long) dnnl.memoryDescGetSize.invokeExact(dst);
                DnnlPlan training = new DnnlPlan(dnnl, name + " training forward", trainingPd, List.of(DnnlPlan.Arg.in(Dnnl.ARG_SRC, src),
                        DnnlPlan.Arg.out(Dnnl.ARG_DST, dst), DnnlPlan.Arg.out(Dnnl.ARG_WORKSPACE, workspace)));
                DnnlPlan backward = new DnnlPlan(dnnl, name + " backward", backwardPd, List.of(DnnlPlan.Arg.in(Dnnl.ARG_DIFF_DST, dst),
                        DnnlPlan.Arg.in(Dnnl.ARG_WORKSPACE, workspace), DnnlPlan.Arg.out(Dnnl.ARG_DIFF_SRC, src)));
                plans = new Plans(forward, training, backward, (dstBytes + 63) / 64 * 64, workspaceBytes, implementation);
            } else {
                DnnlPlan backward = new DnnlPlan(dnnl, name + " backward", backwardPd, List.of(DnnlPlan.Arg.in(Dnnl.ARG_DIFF_DST, dst),
                        DnnlPlan.Arg.out(Dnnl.ARG_DIFF_SRC, src)));
                plans = new Plans(forward, null, backward, 0, 0, implementation);
            }
            dnnl.destroyPd(backwardPd);
            dnnl.destroyPd(trainingPd);
            dnnl.destroyMds(src, dst);
            return Optional.of(plans);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("oneDNN: creating the pooling " + key + " failed", t);
        }
    }
}
