package dev.advinterp.engine;

import dev.advinterp.engine.memory.NativeMemory;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Every setting the engine takes from outside the program, read in this one place: system
 * properties ({@code -Dadvinterp.*}) and environment variables ({@code ADVINTERP_*}). The table
 * of knobs, their defaults and when each is read is in engine/README.md; this class and that
 * table are kept together.
 *
 * <p>{@link #current()} is read from the process's properties and environment on first use.
 * Tests replace it for a block of code with {@link #override(EngineConfig)} instead of skipping
 * when a knob has another value; a knob that is read only once (the CPU thread count, the BLAS
 * library) keeps the value it had then.
 *
 * @param device         {@code advinterp.device}: the word ({@code cpu}, {@code cuda} or
 *                       {@code auto}) for the root scope's device when no program chose one
 * @param profile        {@code advinterp.profile}: time every backend call of the default backend
 * @param threads        {@code advinterp.threads}: the CPU backend's thread count (and OpenBLAS's)
 * @param winograd       {@code advinterp.conv.winograd}: 3×3 stride-1 convolutions by Winograd where they qualify
 * @param winogradTile   {@code advinterp.conv.winograd.tile}: Winograd's output tile, 2 or 4
 * @param convMeasure    {@code advinterp.conv.measure}: with oneDNN loaded, each 3×3 stride-1 pass by the faster of oneDNN and
 *                       Winograd, timed over its first calls (default false: oneDNN alone)
 * @param channelsLast   {@code advinterp.channels.last}: with oneDNN loaded, where activations stay channels-last (NHWC) between
 *                       the CPU kernels that read that layout, instead of a reorder on each side of every convolution:
 *                       {@code off} (the default), {@code inference} (in the forwards that no tape records) or {@code on}
 * @param blas           {@code ADVINTERP_BLAS} (else {@code advinterp.blas}): {@code auto}, {@code bundled},
 *                       {@code system}, {@code none} or the path of a libopenblas
 * @param dnnl           {@code ADVINTERP_DNNL} (else {@code advinterp.dnnl}): {@code auto} (the default: the oneDNN of the
 *                       Maven jar, im2col where it cannot load), {@code none} (convolutions by im2col/Winograd and the
 *                       GEMM) or the path of a libdnnl.so.3
 * @param hostCache      {@code ADVINTERP_HOST_CACHE} (else {@code advinterp.host.cache}): the most idle bytes the host's
 *                       caching allocator keeps ({@code auto}: a quarter of physical memory; {@code none}; or a size
 *                       such as {@code 2g}); see {@link dev.advinterp.engine.memory.NativeMemory}
 * @param cache          {@code ADVINTERP_CACHE}: where the bundled OpenBLAS and oneDNN are unpacked and computed tables (WordNet distances) are kept
 * @param cudaPath       {@code ADVINTERP_CUDA_PATH}: folders searched first for the CUDA libraries ({@code :}-separated), or null
 * @param libraryPath    {@code LD_LIBRARY_PATH}: searched next for the CUDA libraries, or null
 * @param virtualEnv     {@code VIRTUAL_ENV}: a Python environment whose {@code nvidia/*}/lib wheels hold CUDA libraries, or null
 * @param home           {@code HOME}: for the user's Python site-packages, or null
 * @param openblasCoreType {@code OPENBLAS_CORETYPE}: read by OpenBLAS itself; here only to be reported, or null
 */
public record EngineConfig(String device, boolean profile, int threads, boolean winograd, int winogradTile, boolean convMeasure, ChannelsLast.Mode channelsLast, String blas, String dnnl,
                           String hostCache, Path cache, String cudaPath, String libraryPath, String virtualEnv, String home,
                           String openblasCoreType) {
    /** The system property that names the root scope's device. */
    public static final String DEVICE_PROPERTY = "advinterp.device";
    /**
     * The CPU unless asked otherwise: the test suite and every existing run keep the reference
     * backend, whose results the golden fixtures were checked against.
     */
    public static final String DEFAULT_DEVICE = "cpu";

    private static volatile EngineConfig fromProcess;
    private static volatile EngineConfig overridden;

    public EngineConfig {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(blas, "blas");
        Objects.requireNonNull(dnnl, "dnnl");
        Objects.requireNonNull(hostCache, "hostCache");
        Objects.requireNonNull(cache, "cache");
        if (threads < 1) throw new IllegalArgumentException("advinterp.threads: " + threads + " threads; at least 1");
        if (winogradTile != 2 && winogradTile != 4) {
            throw new IllegalArgumentException("advinterp.conv.winograd.tile must be 2 or 4 (the output tile of F(m×m, 3×3)), got '"
                    + winogradTile + "'");
        }
    }

    /** The settings in force: an {@link #override} if one is open, else the process's. */
    public static EngineConfig current() {
        EngineConfig o = overridden;
        if (o != null) return o;
        EngineConfig c = fromProcess;
        if (c == null) {
            synchronized (EngineConfig.class) {
                if (fromProcess == null) fromProcess = read(System.getProperties(), System.getenv());
                c = fromProcess;
            }
        }
        return c;
    }

    /**
     * The settings that {@code properties} (system properties) and {@code env} (environment
     * variables) give, with the defaults for what they leave out.
     *
     * @throws IllegalArgumentException for a value the engine cannot use, naming the knob
     */
    public static EngineConfig read(Map<?, ?> properties, Map<String, String> env) {
        String device = property(properties, DEVICE_PROPERTY).orElse(DEFAULT_DEVICE);
        boolean profile = property(properties, "advinterp.profile").map(v -> v.equalsIgnoreCase("true")).orElse(false);
        // as Integer.getInteger: a value that is not a number leaves the default
        int cores = Runtime.getRuntime().availableProcessors();
        int threads = Math.max(1, property(properties, "advinterp.threads").map(v -> parseInt(v, cores)).orElse(cores));
        boolean winograd = !property(properties, "advinterp.conv.winograd").orElse("true").strip().equalsIgnoreCase("false");
        boolean convMeasure = property(properties, "advinterp.conv.measure").map(v -> v.strip().equalsIgnoreCase("true")).orElse(false);
        ChannelsLast.Mode channelsLast = ChannelsLast.Mode.parse(property(properties, "advinterp.channels.last").orElse("off"));
        String tile = property(properties, "advinterp.conv.winograd.tile").orElse("2").strip();
        if (!tile.equals("2") && !tile.equals("4")) {
            throw new IllegalArgumentException("advinterp.conv.winograd.tile must be 2 or 4 (the output tile of F(m×m, 3×3)), got '"
                    + tile + "'");
        }
        String blas = Optional.ofNullable(env.get("ADVINTERP_BLAS")).or(() -> property(properties, "advinterp.blas"))
                .orElse("auto").strip();
        String dnnl = Optional.ofNullable(env.get("ADVINTERP_DNNL")).or(() -> property(properties, "advinterp.dnnl"))
                .orElse("auto").strip();
        String hostCache = Optional.ofNullable(env.get("ADVINTERP_HOST_CACHE")).or(() -> property(properties, "advinterp.host.cache"))
                .orElse("auto").strip();
        NativeMemory.parseLimit(hostCache, 0); // a value it cannot use fails here, naming the knob
        Path cache = Optional.ofNullable(env.get("ADVINTERP_CACHE")).map(Path::of)
                .orElseGet(() -> Path.of(property(properties, "user.home").orElse(""), ".cache", "advinterp"));
        return new EngineConfig(device, profile, threads, winograd, Integer.parseInt(tile), convMeasure, channelsLast, blas, dnnl, hostCache, cache, env.get("ADVINTERP_CUDA_PATH"),
                env.get("LD_LIBRARY_PATH"), env.get("VIRTUAL_ENV"), env.get("HOME"), env.get("OPENBLAS_CORETYPE"));
    }

    private static Optional<String> property(Map<?, ?> properties, String name) {
        Object v = properties.get(name);
        return v == null ? Optional.empty() : Optional.of(v.toString());
    }

    private static int parseInt(String v, int fallback) {
        try {
            return Integer.parseInt(v.strip());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    /** The device word in lower case, as {@code DeviceChoice} parses it. */
    public String deviceWord() {
        return device.strip().toLowerCase(Locale.ROOT);
    }

    /**
     * Makes {@code config} the settings in force until the returned handle is closed, which
     * restores what was in force before (use with try-with-resources). For tests; process-wide.
     */
    public static Overriding override(EngineConfig config) {
        Objects.requireNonNull(config, "config");
        synchronized (EngineConfig.class) {
            Overriding o = new Overriding(overridden);
            overridden = config;
            return o;
        }
    }

    /** An open {@link #override}; closing it puts the previous settings back. */
    public static final class Overriding implements AutoCloseable {
        private final EngineConfig previous;
        private boolean closed;

        private Overriding(EngineConfig previous) {
            this.previous = previous;
        }

        @Override
        public void close() {
            synchronized (EngineConfig.class) {
                if (closed) return;
                closed = true;
                overridden = previous;
            }
        }
    }

    public EngineConfig withDevice(String word) {
        return new EngineConfig(word, profile, threads, winograd, winogradTile, convMeasure, channelsLast, blas, dnnl, hostCache, cache, cudaPath, libraryPath, virtualEnv, home,
                openblasCoreType);
    }

    public EngineConfig withProfile(boolean on) {
        return new EngineConfig(device, on, threads, winograd, winogradTile, convMeasure, channelsLast, blas, dnnl, hostCache, cache, cudaPath, libraryPath, virtualEnv, home,
                openblasCoreType);
    }

    public EngineConfig withWinograd(boolean on, int tile) {
        return new EngineConfig(device, profile, threads, on, tile, convMeasure, channelsLast, blas, dnnl, hostCache, cache, cudaPath, libraryPath, virtualEnv, home,
                openblasCoreType);
    }

    public EngineConfig withConvMeasure(boolean on) {
        return new EngineConfig(device, profile, threads, winograd, winogradTile, on, channelsLast, blas, dnnl, hostCache, cache, cudaPath, libraryPath, virtualEnv, home,
                openblasCoreType);
    }

    public EngineConfig withBlas(String choice, Path cacheFolder) {
        return new EngineConfig(device, profile, threads, winograd, winogradTile, convMeasure, channelsLast, choice, dnnl, hostCache, cacheFolder, cudaPath, libraryPath, virtualEnv,
                home, openblasCoreType);
    }

    /** CUDA libraries searched for in {@code cudaPath} and {@code libraryPath} only (no Python environments). */
    public EngineConfig withCudaSearch(String cudaPathFolders, String libraryPathFolders) {
        return new EngineConfig(device, profile, threads, winograd, winogradTile, convMeasure, channelsLast, blas, dnnl, hostCache, cache, cudaPathFolders, libraryPathFolders, null,
                null, openblasCoreType);
    }
}
