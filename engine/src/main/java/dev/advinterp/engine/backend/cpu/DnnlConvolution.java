package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.ConvGeometry;
import dev.advinterp.engine.backend.ConvolutionKernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Convolution forward, backward-data and backward-weights on oneDNN. The engine's tensors stay
 * in its layout (NCHW activations, OIHW weights, plain bias); oneDNN chooses the layout its
 * fastest kernel wants ({@code format_tag_any}), and where that differs from the engine's, the
 * argument is reordered into a staging buffer before the convolution (inputs) or out of it
 * after (outputs). With plain layouts forced, backward-weights falls to oneDNN's reference
 * kernel, hundreds of times slower. Primitives are created once per (pass, geometry, bias) and
 * cached for the life of the process; a call sets the data handles and runs the steps.
 *
 * <p>Memory: oneDNN allocates nothing per plan. The staging buffers and the scratchpads (every
 * primitive is created with a user scratchpad) lie in one {@link Workspace} slot, which grows to
 * the largest plan's need and is shared by all plans: a call's buffers live for that call only,
 * so a model's twenty-odd convolutions, each in three passes, need the memory of the largest one
 * rather than of all of them, and that memory is in the engine's statistics. Calls are
 * serialised: one stream, one primitive at a time, each with all of oneDNN's threads.
 */
final class DnnlConvolution implements ConvolutionKernels {
    private final Dnnl dnnl;
    /** Where oneDNN is not used: see {@link #oneDnnServes}. */
    private final ConvolutionKernels fallback;
    private final Map<Key, Plan> cache = new HashMap<>();

    private enum Pass { FORWARD, BACKWARD_DATA, BACKWARD_WEIGHTS }

    private record Key(Pass pass, ConvGeometry g, boolean bias) {
    }

    /** A primitive with its arguments; its scratchpad memory object (null where it needs none) and that scratchpad's bytes. */
    private record Step(MemorySegment primitive, int nargs, MemorySegment execArgs, MemorySegment scratchpad, long scratchpadBytes) {
    }

    /**
     * The memory objects that take the caller's buffers (in call order), those of the staging
     * buffers with their offsets in the workspace, the offset of the scratchpad (shared by the
     * steps, which run one after another), the workspace bytes it all needs, and the steps to run.
     */
    private record Plan(MemorySegment[] user, MemorySegment[] staging, long[] stagingOffsets, long scratchpadOffset, long bytes, List<Step> steps) {
    }

    /** The workspace slot of the staging buffers and scratchpads; the im2col path's first slot, since the two never run within one call. */
    private static final int SLOT = 0;
    private static final long ALIGN = 64;

    DnnlConvolution(Dnnl dnnl, ConvolutionKernels fallback) {
        this.dnnl = dnnl;
        this.fallback = fallback;
    }

    /**
     * oneDNN 3.8.1 computes a wrong forward for a single-channel input whose output is one
     * position wide (or high) with a stride above 1 on that axis (found by the random-geometry
     * tests: 1×5×5 input, 3×5 kernel, stride 1,2); such degenerate geometries go to the im2col path.
     */
    static boolean oneDnnServes(ConvGeometry g) {
        return !((g.outW() == 1 && g.strideW() > 1) || (g.outH() == 1 && g.strideH() > 1));
    }

    @Override
    public void forward(Tensor x, Tensor w, Tensor bias, ConvGeometry g, Tensor y) {
        if (!oneDnnServes(g)) {
            fallback.forward(x, w, bias, g, y);
            return;
        }
        run(new Key(Pass.FORWARD, g, bias != null), x.segment(), w.segment(), bias == null ? null : bias.segment(), y.segment());
    }

    @Override
    public void backwardData(Tensor dy, Tensor w, ConvGeometry g, Tensor dx) {
        if (!oneDnnServes(g)) {
            fallback.backwardData(dy, w, g, dx);
            return;
        }
        run(new Key(Pass.BACKWARD_DATA, g, false), dx.segment(), w.segment(), dy.segment());
    }

    @Override
    public void backwardFilter(Tensor x, Tensor dy, ConvGeometry g, Tensor dw, Tensor dbias) {
        if (!oneDnnServes(g)) {
            fallback.backwardFilter(x, dy, g, dw, dbias);
            return;
        }
        run(new Key(Pass.BACKWARD_WEIGHTS, g, dbias != null), x.segment(), dw.segment(), dbias == null ? null : dbias.segment(), dy.segment());
    }

    /** The workspace bytes of the largest plan created so far: what the shared slot grows to. */
    synchronized long largestPlanBytes() {
        return cache.values().stream().mapToLong(Plan::bytes).max().orElse(0);
    }

    /** Runs the key's plan on the buffers, given in the order of its arguments (a null bias is skipped). */
    private synchronized void run(Key key, MemorySegment... buffers) {
        Plan p = cache.computeIfAbsent(key, this::create);
        try {
            int k = 0;
            for (MemorySegment b : buffers) {
                if (b == null) continue;
                setHandle(p.user()[k++], b);
            }
            MemorySegment ws = Workspace.get(SLOT, (p.bytes() + Float.BYTES - 1) / Float.BYTES);
            for (int i = 0; i < p.staging().length; i++) setHandle(p.staging()[i], ws.asSlice(p.stagingOffsets()[i]));
            for (Step s : p.steps()) {
                if (s.scratchpad() != null) setHandle(s.scratchpad(), ws.asSlice(p.scratchpadOffset()));
                Dnnl.check((int) dnnl.primitiveExecute.invokeExact(s.primitive(), dnnl.stream, s.nargs(), s.execArgs()), "dnnl_primitive_execute");
            }
            Dnnl.check((int) dnnl.streamWait.invokeExact(dnnl.stream), "dnnl_stream_wait");
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("oneDNN convolution " + key.pass() + " failed", t);
        }
    }

    private void setHandle(MemorySegment memory, MemorySegment buffer) throws Throwable {
        Dnnl.check((int) dnnl.memorySetDataHandle.invokeExact(memory, buffer), "dnnl_memory_set_data_handle");
    }

    /** One argument of the convolution: its number, the engine's layout, the query for oneDNN's, and whether it is written. */
    private record Arg(int arg, MemorySegment plain, int query, boolean output) {
    }

    private Plan create(Key key) {
        ConvGeometry g = key.g();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment src = desc(a, Dnnl.TAG_ABCD, g.n(), g.cIn(), g.h(), g.w());
            MemorySegment weights = desc(a, Dnnl.TAG_ABCD, g.cOut(), g.cIn(), g.kh(), g.kw());
            MemorySegment bias = key.bias() ? desc(a, Dnnl.TAG_A, g.cOut()) : MemorySegment.NULL;
            MemorySegment dst = desc(a, Dnnl.TAG_ABCD, g.n(), g.cOut(), g.outH(), g.outW());
            MemorySegment srcAny = desc(a, Dnnl.TAG_ANY, g.n(), g.cIn(), g.h(), g.w());
            MemorySegment weightsAny = desc(a, Dnnl.TAG_ANY, g.cOut(), g.cIn(), g.kh(), g.kw());
            MemorySegment dstAny = desc(a, Dnnl.TAG_ANY, g.n(), g.cOut(), g.outH(), g.outW());
            MemorySegment strides = dims(a, g.strideH(), g.strideW()), dilates = dims(a, 0, 0), pad = dims(a, g.padH(), g.padW());
            MemorySegment out = a.allocate(ADDRESS);
            int prop = key.pass() == Pass.FORWARD ? Dnnl.FORWARD_INFERENCE : Dnnl.FORWARD_TRAINING;
            MemorySegment forwardBias = key.pass() == Pass.BACKWARD_DATA ? MemorySegment.NULL : bias;
            Dnnl.check((int) dnnl.convForwardPd.invokeExact(out, dnnl.engine, prop, Dnnl.CONVOLUTION_DIRECT, srcAny, weightsAny, forwardBias, dstAny,
                    strides, dilates, pad, pad, dnnl.userScratchpad), "dnnl_convolution_forward_primitive_desc_create");
            MemorySegment forward = out.get(ADDRESS, 0), pd;
            List<Arg> args = new ArrayList<>();
            switch (key.pass()) {
                case FORWARD -> {
                    pd = forward;
                    args.add(new Arg(Dnnl.ARG_SRC, src, Dnnl.QUERY_SRC_MD, false));
                    args.add(new Arg(Dnnl.ARG_WEIGHTS, weights, Dnnl.QUERY_WEIGHTS_MD, false));
                    if (key.bias()) args.add(new Arg(Dnnl.ARG_BIAS, bias, 0, false));
                    args.add(new Arg(Dnnl.ARG_DST, dst, Dnnl.QUERY_DST_MD, true));
                }
                case BACKWARD_DATA -> {
                    Dnnl.check((int) dnnl.convBackwardDataPd.invokeExact(out, dnnl.engine, Dnnl.CONVOLUTION_DIRECT, srcAny, weightsAny, dstAny, strides,
                            dilates, pad, pad, forward, dnnl.userScratchpad), "dnnl_convolution_backward_data_primitive_desc_create");
                    pd = out.get(ADDRESS, 0);
                    args.add(new Arg(Dnnl.ARG_DIFF_SRC, src, Dnnl.QUERY_DIFF_SRC_MD, true));
                    args.add(new Arg(Dnnl.ARG_WEIGHTS, weights, Dnnl.QUERY_WEIGHTS_MD, false));
                    args.add(new Arg(Dnnl.ARG_DIFF_DST, dst, Dnnl.QUERY_DIFF_DST_MD, false));
                }
                default -> {
                    Dnnl.check((int) dnnl.convBackwardWeightsPd.invokeExact(out, dnnl.engine, Dnnl.CONVOLUTION_DIRECT, srcAny, weightsAny, bias, dstAny,
                            strides, dilates, pad, pad, forward, dnnl.userScratchpad), "dnnl_convolution_backward_weights_primitive_desc_create");
                    pd = out.get(ADDRESS, 0);
                    args.add(new Arg(Dnnl.ARG_SRC, src, Dnnl.QUERY_SRC_MD, false));
                    args.add(new Arg(Dnnl.ARG_DIFF_WEIGHTS, weights, Dnnl.QUERY_DIFF_WEIGHTS_MD, true));
                    if (key.bias()) args.add(new Arg(Dnnl.ARG_DIFF_BIAS, bias, 0, true));
                    args.add(new Arg(Dnnl.ARG_DIFF_DST, dst, Dnnl.QUERY_DIFF_DST_MD, false));
                }
            }
            List<Step> before = new ArrayList<>(), after = new ArrayList<>();
            MemorySegment[] user = new MemorySegment[args.size()];
            List<MemorySegment> staging = new ArrayList<>();
            List<Long> offsets = new ArrayList<>();
            long bytes = 0;
            MemorySegment exec = Arena.global().allocate(Dnnl.EXEC_ARG, args.size() + 1);
            for (int i = 0; i < args.size(); i++) {
                Arg arg = args.get(i);
                user[i] = memory(out, arg.plain());
                MemorySegment used = user[i];
                if (arg.query() != 0) {
                    MemorySegment chosen = (MemorySegment) dnnl.pdQueryMd.invokeExact(pd, arg.query(), 0);
                    if ((int) dnnl.memoryDescEqual.invokeExact(chosen, arg.plain()) == 0) {
                        used = memory(out, chosen);
                        staging.add(used);
                        offsets.add(bytes);
                        bytes += aligned((long) dnnl.memoryDescGetSize.invokeExact(chosen));
                        if (arg.output()) after.add(reorder(out, chosen, used, arg.plain(), user[i]));
                        else before.add(reorder(out, arg.plain(), user[i], chosen, used));
                    }
                }
                exec.set(JAVA_INT, i * Dnnl.EXEC_ARG.byteSize(), arg.arg());
                exec.set(ADDRESS, i * Dnnl.EXEC_ARG.byteSize() + 8, used);
            }
            List<Step> steps = new ArrayList<>(before);
            steps.add(step(out, pd, args.size(), exec));
            steps.addAll(after);
            long scratchpadBytes = 0;
            for (Step st : steps) scratchpadBytes = Math.max(scratchpadBytes, st.scratchpadBytes());
            long[] offs = offsets.stream().mapToLong(Long::longValue).toArray();
            if (pd != forward) Dnnl.check((int) dnnl.pdDestroy.invokeExact(pd), "dnnl_primitive_desc_destroy");
            Dnnl.check((int) dnnl.pdDestroy.invokeExact(forward), "dnnl_primitive_desc_destroy");
            for (MemorySegment md : new MemorySegment[]{src, weights, bias, dst, srcAny, weightsAny, dstAny}) {
                if (!md.equals(MemorySegment.NULL)) Dnnl.check((int) dnnl.memoryDescDestroy.invokeExact(md), "dnnl_memory_desc_destroy");
            }
            return new Plan(user, staging.toArray(MemorySegment[]::new), offs, bytes, bytes + scratchpadBytes, List.copyOf(steps));
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("oneDNN: creating the convolution " + key + " failed", t);
        }
    }

    /** A memory object of that descriptor whose buffer is set before each call. */
    private MemorySegment memory(MemorySegment out, MemorySegment md) throws Throwable {
        Dnnl.check((int) dnnl.memoryCreate.invokeExact(out, md, dnnl.engine, MemorySegment.NULL), "dnnl_memory_create");
        return out.get(ADDRESS, 0);
    }

    private static long aligned(long bytes) {
        return (bytes + ALIGN - 1) / ALIGN * ALIGN;
    }

    /**
     * The primitive of a descriptor, run with {@code nargs} arguments already in {@code exec} (which
     * has room for one more): its scratchpad, if it needs one, becomes the last argument.
     */
    private Step step(MemorySegment out, MemorySegment pd, int nargs, MemorySegment exec) throws Throwable {
        Dnnl.check((int) dnnl.primitiveCreate.invokeExact(out, pd), "dnnl_primitive_create");
        MemorySegment primitive = out.get(ADDRESS, 0);
        MemorySegment md = (MemorySegment) dnnl.pdQueryMd.invokeExact(pd, Dnnl.QUERY_SCRATCHPAD_MD, 0);
        long bytes = md.equals(MemorySegment.NULL) ? 0 : (long) dnnl.memoryDescGetSize.invokeExact(md);
        if (bytes == 0) return new Step(primitive, nargs, exec, null, 0);
        MemorySegment scratchpad = memory(out, md);
        exec.set(JAVA_INT, nargs * Dnnl.EXEC_ARG.byteSize(), Dnnl.ARG_SCRATCHPAD);
        exec.set(ADDRESS, nargs * Dnnl.EXEC_ARG.byteSize() + 8, scratchpad);
        return new Step(primitive, nargs + 1, exec, scratchpad, aligned(bytes));
    }

    /** A reorder from one memory to another, with its arguments. */
    private Step reorder(MemorySegment out, MemorySegment fromMd, MemorySegment from, MemorySegment toMd, MemorySegment to) throws Throwable {
        Dnnl.check((int) dnnl.reorderPd.invokeExact(out, fromMd, dnnl.engine, toMd, dnnl.engine, dnnl.userScratchpad), "dnnl_reorder_primitive_desc_create");
        MemorySegment pd = out.get(ADDRESS, 0);
        MemorySegment exec = Arena.global().allocate(Dnnl.EXEC_ARG, 3);
        exec.set(JAVA_INT, 0, Dnnl.ARG_SRC);
        exec.set(ADDRESS, 8, from);
        exec.set(JAVA_INT, Dnnl.EXEC_ARG.byteSize(), Dnnl.ARG_DST);
        exec.set(ADDRESS, Dnnl.EXEC_ARG.byteSize() + 8, to);
        Step s = step(out, pd, 2, exec);
        Dnnl.check((int) dnnl.pdDestroy.invokeExact(pd), "dnnl_primitive_desc_destroy");
        return s;
    }

    private MemorySegment desc(Arena a, int tag, long... shape) throws Throwable {
        MemorySegment out = a.allocate(ADDRESS);
        Dnnl.check((int) dnnl.memoryDescCreateWithTag.invokeExact(out, shape.length, dims(a, shape), Dnnl.F32, tag), "dnnl_memory_desc_create_with_tag");
        return out.get(ADDRESS, 0);
    }

    private static MemorySegment dims(Arena a, long... values) {
        MemorySegment d = a.allocate(JAVA_LONG, Dnnl.MAX_NDIMS);
        for (int i = 0; i < values.length; i++) d.setAtIndex(JAVA_LONG, i, values[i]);
        return d;
    }
}
