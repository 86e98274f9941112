package dev.advinterp.engine.backend.cpu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One oneDNN primitive made ready to run on the engine's buffers: the primitive, a memory object
 * per argument that takes the caller's buffer, and, for each argument whose layout oneDNN chose
 * differently from the engine's, a staging buffer with the reorder into it (inputs, before the
 * primitive) or out of it (outputs, after).
 *
 * <p>Memory: oneDNN allocates nothing. Every primitive is created with a user scratchpad
 * ({@link Dnnl#userScratchpad}); the staging buffers and the scratchpad lie in one {@link Workspace}
 * slot, which grows to the largest plan's need and is shared by all plans, since a plan's buffers
 * live for one call only. A model's convolutions, three passes each, thus hold the memory of the
 * largest one rather than of all of them, and that memory is in the engine's statistics.
 *
 * <p>A plan is created once per shape by its owner. Runs are serialised on the {@link Dnnl} object
 * (there is one stream): one primitive at a time, each with all of oneDNN's threads.
 */
final class DnnlPlan {
    /** The workspace slot of the staging buffers and scratchpads; the im2col path's first slot, since the two never run within one call. */
    private static final int SLOT = 0;
    private static final long ALIGN = 64;

    /**
     * One argument: its number ({@code DNNL_ARG_*}), the descriptor of the engine's layout, and, where
     * oneDNN may choose another layout, the query for its choice (0: the engine's layout is used as
     * it is) and whether the primitive writes it.
     */
    record Arg(int arg, MemorySegment plain, int query, boolean output) {
        static Arg in(int arg, MemorySegment plain) {
            return new Arg(arg, plain, 0, false);
        }

        static Arg out(int arg, MemorySegment plain) {
            return new Arg(arg, plain, 0, true);
        }
    }

    /** A primitive with its arguments; its scratchpad memory object (null where it needs none) and that scratchpad's bytes. */
    private record Step(MemorySegment primitive, int nargs, MemorySegment execArgs, MemorySegment scratchpad, long scratchpadBytes) {
    }

    private final Dnnl dnnl;
    private final String name;
    /** The memory objects that take the caller's buffers, in argument order. */
    private final MemorySegment[] user;
    /** The staging memory objects and their offsets in the workspace. */
    private final MemorySegment[] staging;
    private final long[] stagingOffsets;
    /** Where the scratchpad starts (shared by the steps, which run one after another), and the workspace bytes the plan needs. */
    private final long scratchpadOffset, bytes;
    private final List<Step> steps;

    /** The plan of the primitive descriptor {@code pd} (which the caller still owns and destroys) with these arguments. */
    DnnlPlan(Dnnl dnnl, String name, MemorySegment pd, List<Arg> args) {
        this.dnnl = dnnl;
        this.name = name;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            List<Step> before = new ArrayList<>(), after = new ArrayList<>();
            user = new MemorySegment[args.size()];
            List<MemorySegment> staged = new ArrayList<>();
            List<Long> offsets = new ArrayList<>();
            long staging = 0;
            MemorySegment exec = Arena.global().allocate(Dnnl.EXEC_ARG, args.size() + 1);
            for (int i = 0; i < args.size(); i++) {
                Arg arg = args.get(i);
                user[i] = memory(out, arg.plain());
                MemorySegment used = user[i];
                if (arg.query() != 0) {
                    MemorySegment chosen = (MemorySegment) dnnl.pdQueryMd.invokeExact(pd, arg.query(), 0);
                    if ((int) dnnl.memoryDescEqual.invokeExact(chosen, arg.plain()) == 0) {
                        used = memory(out, chosen);
                        staged.add(used);
                        offsets.add(staging);
                        staging += aligned((long) dnnl.memoryDescGetSize.invokeExact(chosen));
                        if (arg.output()) after.add(reorder(out, chosen, used, arg.plain(), user[i]));
                        else before.add(reorder(out, arg.plain(), user[i], chosen, used));
                    }
                }
                exec.set(JAVA_INT, i * Dnnl.EXEC_ARG.byteSize(), arg.arg());
                exec.set(ADDRESS, i * Dnnl.EXEC_ARG.byteSize() + 8, used);
            }
            List<Step> all = new ArrayList<>(before);
            all.add(step(out, pd, args.size(), exec));
            all.addAll(after);
            steps = List.copyOf(all);
            this.staging = staged.toArray(MemorySegment[]::new);
            stagingOffsets = offsets.stream().mapToLong(Long::longValue).toArray();
            scratchpadOffset = staging;
            bytes = staging + steps.stream().mapToLong(Step::scratchpadBytes).max().orElse(0);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("oneDNN: creating " + name + " failed", t);
        }
    }

    /** The workspace bytes this plan needs. */
    long bytes() {
        return bytes;
    }

    /** Runs the plan on the buffers, given in the order of its arguments. */
    void run(MemorySegment... buffers) {
        if (buffers.length != user.length) throw new IllegalArgumentException(name + ": " + buffers.length + " buffers for " + user.length + " arguments");
        synchronized (dnnl) {
            execute(buffers);
        }
    }

    private void execute(MemorySegment[] buffers) {
        try {
            for (int i = 0; i < user.length; i++) setHandle(user[i], buffers[i]);
            MemorySegment ws = Workspace.get(SLOT, (bytes + Float.BYTES - 1) / Float.BYTES);
            for (int i = 0; i < staging.length; i++) setHandle(staging[i], ws.asSlice(stagingOffsets[i]));
            for (Step s : steps) {
                if (s.scratchpad() != null) setHandle(s.scratchpad(), ws.asSlice(scratchpadOffset));
                Dnnl.check((int) dnnl.primitiveExecute.invokeExact(s.primitive(), dnnl.stream, s.nargs(), s.execArgs()), "dnnl_primitive_execute");
            }
            Dnnl.check((int) dnnl.streamWait.invokeExact(dnnl.stream), "dnnl_stream_wait");
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("oneDNN " + name + " failed", t);
        }
    }

    private void setHandle(MemorySegment memory, MemorySegment buffer) throws Throwable {
        Dnnl.check((int) dnnl.memorySetDataHandle.invokeExact(memory, buffer), "dnnl_memory_set_data_handle");
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
        long size = md.equals(MemorySegment.NULL) ? 0 : (long) dnnl.memoryDescGetSize.invokeExact(md);
        if (size == 0) return new Step(primitive, nargs, exec, null, 0);
        MemorySegment scratchpad = memory(out, md);
        exec.set(JAVA_INT, nargs * Dnnl.EXEC_ARG.byteSize(), Dnnl.ARG_SCRATCHPAD);
        exec.set(ADDRESS, nargs * Dnnl.EXEC_ARG.byteSize() + 8, scratchpad);
        return new Step(primitive, nargs + 1, exec, scratchpad, aligned(size));
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

    /** A memory descriptor of f32 with that shape and format tag; the caller destroys it ({@link Dnnl#destroyMds}). */
    static MemorySegment desc(Dnnl dnnl, Arena a, int tag, long... shape) throws Throwable {
        MemorySegment out = a.allocate(ADDRESS);
        Dnnl.check((int) dnnl.memoryDescCreateWithTag.invokeExact(out, shape.length, dims(a, shape), Dnnl.F32, tag), "dnnl_memory_desc_create_with_tag");
        return out.get(ADDRESS, 0);
    }

    /** A dnnl_dims_t holding these values. */
    static MemorySegment dims(Arena a, long... values) {
        MemorySegment d = a.allocate(JAVA_LONG, Dnnl.MAX_NDIMS);
        for (int i = 0; i < values.length; i++) d.setAtIndex(JAVA_LONG, i, values[i]);
        return d;
    }
}
