package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.EngineConfig;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * OpenBLAS through the FFM API: {@code cblas_sgemm} called directly on the tensors' off-heap
 * memory, no copies.
 *
 * <p>Where the library comes from, in order (the environment variable {@code ADVINTERP_BLAS}
 * changes it: {@code bundled}, {@code system}, {@code none}, or a path to a libopenblas):
 * <ol>
 *   <li>the copy shipped in the {@code org.bytedeco:openblas} jar (linux-x86_64), extracted once
 *       into {@code ~/.cache/advinterp/} with the Fortran runtime it links against;</li>
 *   <li>a system libopenblas (Debian's libopenblas0-pthread and the usual lib folders).</li>
 * </ol>
 * If neither loads, {@link #load()} is empty and the backend falls back to {@link VectorGemm}.
 *
 * <p>Its worker threads busy-wait after each call for 2^28 cycles by default (a tenth of a second),
 * so the convolutions that follow a fully connected layer (ResNet-18's layer4 backward, right
 * after the classifier's GEMMs) shared the two cores with a spinning thread and ran up to twice as
 * long. {@code OPENBLAS_THREAD_TIMEOUT} is set to {@value #THREAD_TIMEOUT} (2^4 cycles: the workers
 * sleep at once) before the library loads, unless the environment sets it: as libgomp's
 * {@code OMP_WAIT_POLICY=PASSIVE} for oneDNN ({@link Dnnl}).
 */
public final class OpenBlas implements Gemm {
    private static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;
    /** OpenBLAS's idle-thread timeout, as a power of two of cycles (it takes 4 to 30). */
    static final String THREAD_TIMEOUT = "4";
    private static final String BUNDLE = "org/bytedeco/openblas/linux-x86_64/";
    /** Loaded in this order: each one's dependencies come before it. */
    private static final String[] BUNDLED_FILES = {"libquadmath.so.0", "libgfortran.so.5", "libopenblas.so.0"};
    private static final String[] SYSTEM_PATHS = {
            "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
            "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
            "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
            "/usr/lib64/libopenblas.so.0",
            "/usr/local/lib/libopenblas.so.0",
            "/usr/lib/libopenblas.so.0"};

    private final MethodHandle sgemm;
    private final String path;
    private final String config;
    private final String coreName;
    private final int threads;
    /** openblas_set_num_threads, or null when the library lacks it. */
    private final MethodHandle setThreads;
    /** Callers inside {@link #runSingleThreaded}; guarded by this. */
    private int singleThreadedCallers;

    private OpenBlas(SymbolLookup lib, String path) {
        Linker linker = Linker.nativeLinker();
        this.path = path;
        this.sgemm = linker.downcallHandle(lib.find("cblas_sgemm").orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_FLOAT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_FLOAT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        this.config = callString(linker, lib, "openblas_get_config");
        this.coreName = callString(linker, lib, "openblas_get_corename");
        int t = -1;
        this.setThreads = lib.find("openblas_set_num_threads")
                .map(f -> linker.downcallHandle(f, FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT))).orElse(null);
        try {
            if (setThreads != null) setThreads.invokeExact(Parallel.THREADS);
            Optional<MemorySegment> get = lib.find("openblas_get_num_threads");
            if (get.isPresent()) {
                t = (int) linker.downcallHandle(get.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT)).invokeExact();
            }
        } catch (Throwable e) {
            t = -1;
        }
        this.threads = t;
    }

    private static String callString(Linker linker, SymbolLookup lib, String name) {
        Optional<MemorySegment> f = lib.find(name);
        if (f.isEmpty()) return "?";
        try {
            MemorySegment s = (MemorySegment) linker.downcallHandle(f.get(), FunctionDescriptor.of(ValueLayout.ADDRESS)).invokeExact();
            return s.address() == 0 ? "?" : s.reinterpret(4096).getString(0).trim();
        } catch (Throwable e) {
            return "?";
        }
    }

    /** The outcome of looking for OpenBLAS: the library, or why none was loaded. */
    public record LoadResult(Optional<OpenBlas> blas, List<String> attempts) {
    }

    private static volatile LoadResult result;

    /** Finds and loads OpenBLAS once per process, as {@link EngineConfig#blas()} asks. */
    public static synchronized LoadResult load() {
        if (result == null) result = find(EngineConfig.current());
        return result;
    }

    /**
     * Looks for OpenBLAS as {@code config}'s {@link EngineConfig#blas()} and {@link EngineConfig#cache()}
     * say, loading what it finds (a library once loaded stays loaded in the process).
     */
    static LoadResult find(EngineConfig config) {
        List<String> attempts = new ArrayList<>();
        String choice = config.blas();
        OpenBlas found = null;
        if (!choice.equals("none")) NativeEnvironment.setUnlessSet("OPENBLAS_THREAD_TIMEOUT", THREAD_TIMEOUT);
        switch (choice) {
            case "none" -> attempts.add("ADVINTERP_BLAS=none: OpenBLAS not loaded");
            case "bundled" -> found = tryBundled(config.cache(), attempts);
            case "system" -> found = trySystem(attempts);
            case "auto", "" -> {
                found = tryBundled(config.cache(), attempts);
                if (found == null) found = trySystem(attempts);
            }
            default -> found = tryPath(Path.of(choice), attempts);
        }
        return new LoadResult(Optional.ofNullable(found), List.copyOf(attempts));
    }

    private static OpenBlas tryPath(Path p, List<String> attempts) {
        if (!Files.isRegularFile(p)) {
            attempts.add(p + ": not found");
            return null;
        }
        try {
            SymbolLookup lib = SymbolLookup.libraryLookup(p, Arena.global());
            if (lib.find("cblas_sgemm").isEmpty()) {
                attempts.add(p + ": loaded, but has no cblas_sgemm");
                return null;
            }
            attempts.add(p + ": loaded");
            return new OpenBlas(lib, p.toString());
        } catch (RuntimeException e) {
            attempts.add(p + ": " + e.getMessage());
            return null;
        }
    }

    private static OpenBlas trySystem(List<String> attempts) {
        for (String s : SYSTEM_PATHS) {
            Path p = Path.of(s);
            if (Files.isRegularFile(p)) {
                OpenBlas b = tryPath(p, attempts);
                if (b != null) return b;
            }
        }
        attempts.add("system: no libopenblas.so.0 in the usual folders");
        return null;
    }

    private static OpenBlas tryBundled(Path cache, List<String> attempts) {
        if (!BundledLibraries.present(BUNDLE, "libopenblas.so.0")) {
            attempts.add("bundled: the org.bytedeco:openblas linux-x86_64 jar is not on the class path");
            return null;
        }
        try {
            Path dir = BundledLibraries.extract(cache, "openblas", BUNDLE, BUNDLED_FILES);
            // Dependencies first, so that libopenblas finds them by soname.
            for (int i = 0; i < BUNDLED_FILES.length - 1; i++) {
                SymbolLookup.libraryLookup(dir.resolve(BUNDLED_FILES[i]), Arena.global());
            }
            return tryPath(dir.resolve("libopenblas.so.0"), attempts);
        } catch (IOException | RuntimeException e) {
            attempts.add("bundled: could not extract or load (" + e + ")");
            return null;
        }
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k,
                      float alpha, MemorySegment a, long aOffset, int lda,
                      MemorySegment b, long bOffset, int ldb,
                      float beta, MemorySegment c, long cOffset, int ldc) {
        try {
            sgemm.invokeExact(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k,
                    alpha, a.asSlice(aOffset * Float.BYTES), lda,
                    b.asSlice(bOffset * Float.BYTES), ldb,
                    beta, c.asSlice(cOffset * Float.BYTES), ldc);
        } catch (Throwable t) {
            throw new IllegalStateException("cblas_sgemm failed", t);
        }
    }

    @Override
    public boolean canRunSingleThreaded() {
        return setThreads != null;
    }

    /**
     * OpenBLAS runs a call on its caller alone when its thread count is 1 (a process-wide
     * setting, read at each call), and calls from several threads may then run at once. The count
     * drops to 1 when the first caller enters and comes back when the last one leaves, so
     * overlapping callers never restore it under one another; a GEMM called meanwhile from elsewhere
     * just runs on one core.
     */
    @Override
    public void runSingleThreaded(Runnable body) {
        if (setThreads == null) {
            body.run();
            return;
        }
        enterSingleThreaded();
        try {
            body.run();
        } finally {
            leaveSingleThreaded();
        }
    }

    private synchronized void enterSingleThreaded() {
        if (singleThreadedCallers++ == 0) callSetThreads(1);
    }

    private synchronized void leaveSingleThreaded() {
        if (--singleThreadedCallers == 0) callSetThreads(threads > 0 ? threads : Parallel.THREADS);
    }

    private void callSetThreads(int n) {
        try {
            setThreads.invokeExact(n);
        } catch (Throwable t) {
            throw new IllegalStateException("openblas_set_num_threads(" + n + ") failed", t);
        }
    }

    public String path() {
        return path;
    }

    /** OpenBLAS's own description: version, build options, the core type it chose. */
    public String config() {
        return config;
    }

    /** The kernel family in force (e.g. Haswell, SkylakeX), which OPENBLAS_CORETYPE can force. */
    public String coreName() {
        return coreName;
    }

    public int threads() {
        return threads;
    }

    @Override
    public String describe() {
        return "OpenBLAS (" + config + "; core " + coreName + ", " + threads + " threads) from " + path;
    }
}
