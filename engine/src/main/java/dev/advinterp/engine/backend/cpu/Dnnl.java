package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.EngineConfig;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * oneDNN (libdnnl.so.3) through the FFM API: the CPU engine and stream, and the C API calls the
 * convolution kernels use. It comes from the {@code org.bytedeco:dnnl} jar (linux-x86_64, with
 * its libgomp) and {@code org.bytedeco:opencl} (libOpenCL.so.1, which libdnnl links although the
 * CPU engine never calls it), extracted once into the engine's cache; the dependencies are loaded
 * by path first so that libdnnl finds them by soname. Where it cannot load, {@link #load()} says
 * why and the im2col path serves.
 *
 * <p>Threads: the process has one decision, the engine's thread count ({@link Parallel#THREADS},
 * {@code advinterp.threads}, the cores by default), and each pool takes it: the engine's own
 * pool, OpenBLAS's ({@link OpenBlas}), and oneDNN's OpenMP team, whose size libgomp reads from
 * {@code OMP_NUM_THREADS} when it loads, so that variable is set to the engine's count before
 * (unless the environment already sets it). The pools never compute at once: a backend call runs
 * on its caller's thread and returns when its library is done. But libgomp's idle threads spin
 * after each parallel region by default (300,000 rounds), and the engine's Java kernels that
 * follow a convolution (batch norm, ReLU) then share the cores with them; so
 * {@code OMP_WAIT_POLICY=PASSIVE} is set the same way, and oneDNN's threads sleep when idle.
 * Measured on a ResNet-18 training step (32×32, batch 64, two cores): 7.6% less wall time and 11%
 * less CPU time (medians of four runs, paired), the same with a spin count of 20,000. OpenBLAS's
 * workers are put to sleep the same way ({@link OpenBlas}).
 *
 * <p>The numbers below are oneDNN 3.x's C API values (dnnl_types.h); a wrong one makes a call
 * fail with {@code dnnl_invalid_arguments}, which the conformance tests would show.
 */
public final class Dnnl {
    static final String BUNDLE = "org/bytedeco/dnnl/linux-x86_64/", OPENCL = "org/bytedeco/opencl/linux-x86_64/";

    // dnnl_types.h
    static final int CPU = 1, F32 = 3, TAG_ANY = 1, TAG_A = 2, TAG_ABCD = 5, TAG_ACDB = 22;
    static final int FORWARD_TRAINING = 64, FORWARD_INFERENCE = 96;
    static final int BACKWARD = 128, BACKWARD_DATA = 160;
    static final int CONVOLUTION_DIRECT = 1, POOLING_MAX = 0x1ff, POOLING_AVG_INCLUDE_PADDING = 0x2ff;
    static final int USE_SCALE = 0x2, USE_SHIFT = 0x4, USE_GLOBAL_STATS = 0x1;
    static final int ARG_SRC = 1, ARG_DST = 17, ARG_WEIGHTS = 33, ARG_BIAS = 41, ARG_DIFF_SRC = 129, ARG_DIFF_DST = 145, ARG_DIFF_WEIGHTS = 161,
            ARG_DIFF_BIAS = 169;
    static final int ARG_SCRATCHPAD = 80, ARG_WORKSPACE = 64, ARG_MEAN = 49, ARG_VARIANCE = 50, ARG_SCALE = 51, ARG_SHIFT = 52,
            ARG_DIFF_SCALE = 255, ARG_DIFF_SHIFT = 256;
    /** dnnl_query_impl_info_str: the implementation's name, a const char*. */
    static final int QUERY_IMPL_INFO_STR = 8;
    static final int QUERY_SRC_MD = 129, QUERY_DIFF_SRC_MD = 130, QUERY_WEIGHTS_MD = 131, QUERY_DIFF_WEIGHTS_MD = 132, QUERY_DST_MD = 133,
            QUERY_DIFF_DST_MD = 134, QUERY_WORKSPACE_MD = 135, QUERY_SCRATCHPAD_MD = 136;
    static final int SCRATCHPAD_MODE_USER = 1;
    static final int STREAM_IN_ORDER = 1;
    /** dnnl_dims_t: int64_t[DNNL_MAX_NDIMS]. */
    static final int MAX_NDIMS = 12;
    /** dnnl_exec_arg_t: {int arg; dnnl_memory_t memory;}. */
    static final MemoryLayout EXEC_ARG = MemoryLayout.structLayout(JAVA_INT.withName("arg"), MemoryLayout.paddingLayout(4), ADDRESS.withName("memory"));

    private static final Linker LINKER = Linker.nativeLinker();
    private static volatile LoadResult result;

    private final Path path;
    private final String version;
    final MemorySegment engine, stream;
    /** Primitive attributes that every primitive is created with: the scratchpad is the caller's ({@code dnnl_scratchpad_mode_user}). */
    final MemorySegment userScratchpad;
    final MethodHandle memoryDescCreateWithTag, memoryDescDestroy, memoryDescGetSize, convForwardPd, convBackwardDataPd, convBackwardWeightsPd, pdQueryMd, pdQuery, pdDestroy,
            poolForwardPd, poolBackwardPd, bnormForwardPd, bnormBackwardPd, primitiveCreate, primitiveExecute, memoryCreate, memorySetDataHandle, streamWait, memoryDescEqual, reorderPd;

    /** What was tried and, if it loaded, oneDNN. */
    public record LoadResult(Optional<Dnnl> dnnl, List<String> attempts) {
    }

    private Dnnl(Path path, SymbolLookup lib) {
        this.path = path;
        MethodHandle version = handle(lib, "dnnl_version", FunctionDescriptor.of(ADDRESS));
        MemorySegment v;
        try {
            v = ((MemorySegment) version.invokeExact()).reinterpret(12);
        } catch (Throwable t) {
            throw new IllegalStateException("dnnl_version failed", t);
        }
        this.version = v.get(JAVA_INT, 0) + "." + v.get(JAVA_INT, 4) + "." + v.get(JAVA_INT, 8);
        memoryDescCreateWithTag = handle(lib, "dnnl_memory_desc_create_with_tag", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        memoryDescDestroy = handle(lib, "dnnl_memory_desc_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        memoryDescGetSize = handle(lib, "dnnl_memory_desc_get_size", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        // (pd*, engine, prop, alg, src, weights, bias, dst, strides, dilates, padding_l, padding_r, attr)
        convForwardPd = handle(lib, "dnnl_convolution_forward_primitive_desc_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT,
                JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        // (pd*, engine, alg, diff_src, weights, diff_dst, strides, dilates, padding_l, padding_r, hint_fwd_pd, attr)
        convBackwardDataPd = handle(lib, "dnnl_convolution_backward_data_primitive_desc_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
                JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        // (pd*, engine, alg, src, diff_weights, diff_bias, diff_dst, strides, dilates, padding_l, padding_r, hint_fwd_pd, attr)
        convBackwardWeightsPd = handle(lib, "dnnl_convolution_backward_weights_primitive_desc_create", FunctionDescriptor.of(JAVA_INT, ADDRESS,
                ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        // (pd*, engine, prop, alg, src, dst, strides, kernel, dilation, padding_l, padding_r, attr)
        poolForwardPd = handle(lib, "dnnl_pooling_forward_primitive_desc_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        // (pd*, engine, alg, diff_src, diff_dst, strides, kernel, dilation, padding_l, padding_r, hint_fwd_pd, attr)
        poolBackwardPd = handle(lib, "dnnl_pooling_backward_primitive_desc_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT,
                ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        // (pd*, engine, prop, src, dst, epsilon, flags, attr)
        bnormForwardPd = handle(lib, "dnnl_batch_normalization_forward_primitive_desc_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
                JAVA_INT, ADDRESS, ADDRESS, JAVA_FLOAT, JAVA_INT, ADDRESS));
        // (pd*, engine, prop, diff_src, diff_dst, src, epsilon, flags, hint_fwd_pd, attr)
        bnormBackwardPd = handle(lib, "dnnl_batch_normalization_backward_primitive_desc_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS,
                JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_FLOAT, JAVA_INT, ADDRESS, ADDRESS));
        pdQueryMd = handle(lib, "dnnl_primitive_desc_query_md", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, JAVA_INT));
        // (pd, what, index, result*)
        pdQuery = handle(lib, "dnnl_primitive_desc_query", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
        pdDestroy = handle(lib, "dnnl_primitive_desc_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        primitiveCreate = handle(lib, "dnnl_primitive_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        primitiveExecute = handle(lib, "dnnl_primitive_execute", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS));
        memoryCreate = handle(lib, "dnnl_memory_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        memorySetDataHandle = handle(lib, "dnnl_memory_set_data_handle", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        streamWait = handle(lib, "dnnl_stream_wait", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        memoryDescEqual = handle(lib, "dnnl_memory_desc_equal", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        // (pd*, src_md, src_engine, dst_md, dst_engine, attr)
        reorderPd = handle(lib, "dnnl_reorder_primitive_desc_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        MethodHandle engineCreate = handle(lib, "dnnl_engine_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
        MethodHandle streamCreate = handle(lib, "dnnl_stream_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        MethodHandle attrCreate = handle(lib, "dnnl_primitive_attr_create", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        MethodHandle attrScratchpadMode = handle(lib, "dnnl_primitive_attr_set_scratchpad_mode", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) engineCreate.invokeExact(out, CPU, 0L), "dnnl_engine_create");
            engine = out.get(ADDRESS, 0);
            check((int) streamCreate.invokeExact(out, engine, STREAM_IN_ORDER), "dnnl_stream_create");
            stream = out.get(ADDRESS, 0);
            check((int) attrCreate.invokeExact(out), "dnnl_primitive_attr_create");
            userScratchpad = out.get(ADDRESS, 0);
            check((int) attrScratchpadMode.invokeExact(userScratchpad, SCRATCHPAD_MODE_USER), "dnnl_primitive_attr_set_scratchpad_mode");
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("oneDNN: creating the CPU engine failed", t);
        }
    }

    /** Loads oneDNN once per process as {@link EngineConfig#dnnl()} asks: none (the default), a path to a libdnnl.so.3, or the bundled one (auto). */
    public static synchronized LoadResult load() {
        if (result == null) result = find(EngineConfig.current().dnnl(), EngineConfig.current().cache());
        return result;
    }

    static LoadResult find(String choice, Path cache) {
        List<String> attempts = new ArrayList<>();
        Dnnl found = null;
        try {
            if (!choice.equals("none")) {
                NativeEnvironment.setUnlessSet("OMP_NUM_THREADS", String.valueOf(Parallel.THREADS));
                NativeEnvironment.setUnlessSet("OMP_WAIT_POLICY", "PASSIVE");
            }
            if (choice.equals("none")) {
                attempts.add("ADVINTERP_DNNL=none: oneDNN not loaded; ADVINTERP_DNNL=auto (the default) uses the one in the Maven jar");
            } else if (choice.equals("auto") || choice.isEmpty()) {
                if (!BundledLibraries.present(BUNDLE, "libdnnl.so.3") || !BundledLibraries.present(OPENCL, "libOpenCL.so.1")) {
                    attempts.add("bundled: the org.bytedeco:dnnl and org.bytedeco:opencl linux-x86_64 jars are not on the class path");
                } else {
                    Path cl = BundledLibraries.extract(cache, "opencl", OPENCL, "libOpenCL.so.1");
                    Path dir = BundledLibraries.extract(cache, "dnnl", BUNDLE, "libgomp.so.1", "libdnnl.so.3");
                    SymbolLookup.libraryLookup(cl.resolve("libOpenCL.so.1"), Arena.global());
                    SymbolLookup.libraryLookup(dir.resolve("libgomp.so.1"), Arena.global());
                    found = open(dir.resolve("libdnnl.so.3"));
                }
            } else {
                Path p = Path.of(choice);
                if (!Files.isRegularFile(p)) attempts.add(p + ": not found");
                else found = open(p);
            }
        } catch (IOException | RuntimeException e) {
            attempts.add("could not extract or load oneDNN (" + e + ")");
        }
        return new LoadResult(Optional.ofNullable(found), List.copyOf(attempts));
    }

    /** The OpenMP settings libgomp read from the process environment, for doctor. */
    static String openMpSettings() {
        return NativeEnvironment.describe("OMP_NUM_THREADS", "OMP_WAIT_POLICY");
    }

    private static Dnnl open(Path p) {
        return new Dnnl(p, SymbolLookup.libraryLookup(p, Arena.global()));
    }

    private static MethodHandle handle(SymbolLookup lib, String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(lib.find(name).orElseThrow(() -> new IllegalStateException("oneDNN has no " + name)), fd);
    }

    /** A dnnl_status_t that is not dnnl_success, as an exception naming the call. */
    static void check(int status, String call) {
        if (status != 0) {
            String what = switch (status) {
                case 1 -> "out of memory";
                case 2 -> "invalid arguments";
                case 3 -> "unimplemented";
                case 5 -> "runtime error";
                default -> "status " + status;
            };
            throw new IllegalStateException(call + " failed: " + what);
        }
    }

    /** Destroys memory descriptors (NULL ones are skipped). */
    void destroyMds(MemorySegment... mds) throws Throwable {
        for (MemorySegment md : mds) {
            if (!md.equals(MemorySegment.NULL)) check((int) memoryDescDestroy.invokeExact(md), "dnnl_memory_desc_destroy");
        }
    }

    /** The name of the implementation oneDNN chose for a primitive descriptor, as its verbose log prints it ("jit:avx2", "simple_nchw:any"). */
    String implementation(MemorySegment pd) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check((int) pdQuery.invokeExact(pd, QUERY_IMPL_INFO_STR, 0, out), "dnnl_primitive_desc_query(impl_info_str)");
            return out.get(ADDRESS, 0).reinterpret(256).getString(0);
        }
    }

    void destroyPd(MemorySegment pd) throws Throwable {
        check((int) pdDestroy.invokeExact(pd), "dnnl_primitive_desc_destroy");
    }

    public Path path() {
        return path;
    }

    public String version() {
        return version;
    }
}
