package dev.advinterp.engine.backend.cuda;

import dev.advinterp.engine.EngineConfig;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds the native CUDA libraries by absolute path, so that they load whatever LD_LIBRARY_PATH
 * says: the driver {@code libcuda.so.1}, cuBLAS ({@code libcublas.so.13}, else {@code .so.12}, with
 * the {@code libcublasLt} of the same major), and cuDNN 9 ({@code libcudnn.so.9}).
 *
 * <p>cuDNN 9 is a shim ({@code libcudnn.so.9}) that dlopens its sub-libraries (graph, ops, cnn,
 * adv and the engine libraries) by soname when they are first needed. The JVM opens libraries with
 * RTLD_LOCAL, which does not make them global, but the dynamic loader still answers a later dlopen
 * by soname with an object already loaded under that soname. Loading the sub-libraries by absolute
 * path first, dependencies before dependants, therefore lets the shim find them even when their
 * folder is on no search path (a Python wheel's {@code site-packages/nvidia/cudnn/lib}).
 *
 * <p>Folders searched, in order: {@code $ADVINTERP_CUDA_PATH} (':'-separated), {@code $LD_LIBRARY_PATH},
 * {@code /usr/local/cuda/lib64}, {@code /usr/local/nvidia/lib64}, {@code /usr/local/nvidia/lib},
 * {@code /usr/lib/x86_64-linux-gnu}, then the {@code nvidia/*}{@code /lib} folders of Python
 * site-packages (system, /usr/local, {@code $VIRTUAL_ENV}, {@code /opt/*}{@code /.venv}, {@code ~/.local}).
 */
public final class CudaLibraries {

    /** One library looked for: its name (e.g. "libcudnn.so.9"), the file found or null, every folder searched. */
    public record Found(String library, Path path, List<Path> searched) {
        public Found {
            searched = List.copyOf(searched);
        }

        public boolean present() {
            return path != null;
        }
    }

    static final String DRIVER = "libcuda.so.1";
    static final String CUDNN = "libcudnn.so.9";
    /** cuBLAS majors in order of preference. */
    static final List<String> CUBLAS_MAJORS = List.of("13", "12");
    /**
     * cuDNN 9's sub-libraries in an order where each comes after what it links against (graph is
     * the base of all; ops before cnn before adv). Missing ones are tolerated: the shim reports
     * what it cannot find when an operation needs it.
     */
    static final List<String> CUDNN_PARTS = List.of("libcudnn_graph.so.9", "libcudnn_engines_precompiled.so.9",
            "libcudnn_engines_runtime_compiled.so.9", "libcudnn_heuristic.so.9", "libcudnn_ops.so.9",
            "libcudnn_cnn.so.9", "libcudnn_adv.so.9");
    /** The runtime compiler cuDNN's runtime-compiled engines use; optional. */
    static final List<String> NVRTC = List.of("libnvrtc.so.13", "libnvrtc.so.12");

    private static final List<String> PYTHON_SITE_PATTERNS = List.of(
            "/usr/lib/python3*/site-packages", "/usr/lib/python3*/dist-packages",
            "/usr/local/lib/python3*/site-packages", "/usr/local/lib/python3*/dist-packages",
            "/opt/*/.venv/lib/python3*/site-packages");

    private CudaLibraries() {
    }

    /** The libraries as found on this machine (see the class comment for the search order). */
    public static List<Found> discover() {
        return discover(searchFolders(EngineConfig.current(), Path.of("/")));
    }

    /** Lines for {@code advinterp doctor}: each library and where it was found, or every folder searched. */
    public static String report() {
        return report(discover());
    }

    static String report(List<Found> found) {
        StringBuilder sb = new StringBuilder();
        List<Path> lastSearched = null;
        for (Found f : found) {
            sb.append(String.format("  %-40s ", f.library()));
            if (f.present()) {
                sb.append(f.path()).append('\n');
            } else {
                sb.append("not found");
                // every library is looked for in the same folders: list them once
                if (f.searched().equals(lastSearched)) {
                    sb.append(" (same folders)\n");
                } else {
                    sb.append(" in ").append(f.searched().size()).append(" folders:\n");
                    for (Path p : f.searched()) sb.append("      ").append(p).append('\n');
                    lastSearched = f.searched();
                }
            }
        }
        return sb.toString();
    }

    /**
     * Everything looked for in {@code folders}: the driver, the cuBLAS pair of the first major
     * whose {@code libcublas} is found (both majors when neither is), nvrtc, cuDNN's sub-libraries
     * and the cuDNN shim. The order is the order to load them in.
     */
    static List<Found> discover(List<Path> folders) {
        List<Found> out = new ArrayList<>();
        out.add(find(DRIVER, folders));
        boolean cublas = false;
        for (String major : CUBLAS_MAJORS) {
            Found lt = find("libcublasLt.so." + major, folders), blas = find("libcublas.so." + major, folders);
            if (blas.present()) {
                out.add(lt);
                out.add(blas);
                cublas = true;
                break;
            }
        }
        if (!cublas) {
            for (String major : CUBLAS_MAJORS) {
                out.add(find("libcublasLt.so." + major, folders));
                out.add(find("libcublas.so." + major, folders));
            }
        }
        Found nvrtc = null;
        for (String name : NVRTC) {
            nvrtc = find(name, folders);
            if (nvrtc.present()) break;
        }
        out.add(nvrtc);
        for (String part : CUDNN_PARTS) out.add(find(part, folders));
        out.add(find(CUDNN, folders));
        return List.copyOf(out);
    }

    static Found find(String library, List<Path> folders) {
        for (Path folder : folders) {
            Path candidate = folder.resolve(library);
            if (Files.isRegularFile(candidate)) return new Found(library, candidate.toAbsolutePath(), folders);
        }
        return new Found(library, null, folders);
    }

    /** The entry for {@code library} in a discovery result (the first present one for a cuBLAS name prefix). */
    static Found entry(List<Found> found, String library) {
        Found missing = null;
        for (Found f : found) {
            if (f.library().equals(library) || f.library().startsWith(library + ".")) {
                if (f.present()) return f;
                if (missing == null) missing = f;
            }
        }
        return missing;
    }

    // ---------------------------------------------------------------- loading

    /** The entry for {@code name}, or a {@link CudaUnavailableException} naming what is missing and where it was looked for. */
    static Found require(List<Found> libs, String name, String what) {
        Found f = entry(libs, name);
        if (f == null || !f.present()) {
            throw new CudaUnavailableException(what + " (" + name + ") was not found in " + (f == null ? List.of() : f.searched())
                    + "; install it or name its folder in ADVINTERP_CUDA_PATH");
        }
        return f;
    }

    /**
     * Loads cuBLAS of the first major found, libcublasLt first so that libcublas's dependency on
     * it resolves to the file found; returns libcublas's path.
     */
    static Path loadCublas(List<Found> libs) {
        for (String major : CUBLAS_MAJORS) {
            Found blas = entry(libs, "libcublas.so." + major);
            if (blas == null || !blas.present()) continue;
            Found lt = entry(libs, "libcublasLt.so." + major);
            if (lt != null && lt.present()) NativeLibrary.load("cuBLASLt", lt.path());
            return blas.path();
        }
        Found any = entry(libs, "libcublas.so." + CUBLAS_MAJORS.getFirst());
        throw new CudaUnavailableException("cuBLAS (libcublas.so.13 or .12) was not found in "
                + (any == null ? List.of() : any.searched()) + "; install it (e.g. the nvidia-cublas wheel)"
                + " or name its folder in ADVINTERP_CUDA_PATH");
    }

    /**
     * Loads cuDNN's sub-libraries by absolute path, dependencies first, so that the shim's later
     * dlopen by soname finds them loaded (the JVM loads with RTLD_LOCAL, but glibc answers a dlopen
     * by soname with an object already loaded under that soname); returns the shim's path. A
     * sub-library that fails to load (say the runtime-compiled engines without nvrtc) is added to
     * {@code notes}, not fatal: the shim needs it only for some operations.
     */
    static Path loadCudnn(List<Found> libs, List<String> notes) {
        Found main = require(libs, CUDNN, "cuDNN 9");
        List<String> optional = new ArrayList<>(NVRTC);
        optional.addAll(CUDNN_PARTS);
        for (String name : optional) {
            Found f = entry(libs, name);
            if (f == null || !f.present()) continue;
            try {
                NativeLibrary.load(name, f.path());
            } catch (CudaUnavailableException e) {
                notes.add(e.getMessage());
            }
        }
        return main.path();
    }

    /** {@link #searchFolders(Map, Path)} with the variables {@code config} read from the environment. */
    static List<Path> searchFolders(EngineConfig config, Path root) {
        Map<String, String> env = new HashMap<>();
        if (config.cudaPath() != null) env.put("ADVINTERP_CUDA_PATH", config.cudaPath());
        if (config.libraryPath() != null) env.put("LD_LIBRARY_PATH", config.libraryPath());
        if (config.virtualEnv() != null) env.put("VIRTUAL_ENV", config.virtualEnv());
        if (config.home() != null) env.put("HOME", config.home());
        return searchFolders(env, root);
    }

    /**
     * The folders to search, from the environment and the file system under {@code root} ("/" on
     * a real machine; a temporary folder in tests). Folders that do not exist are left out;
     * duplicates keep their first position.
     */
    static List<Path> searchFolders(Map<String, String> env, Path root) {
        Set<Path> folders = new LinkedHashSet<>();
        addPathList(folders, env.get("ADVINTERP_CUDA_PATH"));
        addPathList(folders, env.get("LD_LIBRARY_PATH"));
        for (String fixed : List.of("/usr/local/cuda/lib64", "/usr/local/nvidia/lib64", "/usr/local/nvidia/lib",
                "/usr/lib/x86_64-linux-gnu")) {
            folders.add(under(root, fixed));
        }
        List<Path> sites = new ArrayList<>();
        for (String pattern : PYTHON_SITE_PATTERNS) sites.addAll(glob(under(root, "/"), pattern.substring(1)));
        String venv = env.get("VIRTUAL_ENV");
        if (venv != null && !venv.isBlank()) sites.addAll(glob(Path.of(venv), "lib/python3*/site-packages"));
        String home = env.get("HOME");
        if (home != null && !home.isBlank()) sites.addAll(glob(Path.of(home), ".local/lib/python3*/site-packages"));
        for (Path site : sites) folders.addAll(glob(site, "nvidia/*/lib"));
        List<Path> existing = new ArrayList<>();
        for (Path p : folders) if (Files.isDirectory(p)) existing.add(p);
        return List.copyOf(existing);
    }

    private static void addPathList(Set<Path> folders, String list) {
        if (list == null) return;
        for (String part : list.split(":")) {
            if (!part.isBlank()) folders.add(Path.of(part.strip()).toAbsolutePath().normalize());
        }
    }

    private static Path under(Path root, String absolute) {
        return root.resolve(absolute.substring(1)).normalize();
    }

    /**
     * The folders matching a relative pattern under {@code base}, where a segment may hold '*'
     * (as in a shell glob), in sorted order so that the result does not depend on the file system.
     */
    static List<Path> glob(Path base, String pattern) {
        List<Path> current = List.of(base);
        for (String segment : pattern.split("/")) {
            List<Path> next = new ArrayList<>();
            for (Path dir : current) {
                if (!segment.contains("*")) {
                    Path p = dir.resolve(segment);
                    if (Files.isDirectory(p)) next.add(p);
                    continue;
                }
                if (!Files.isDirectory(dir)) continue;
                List<Path> matches = new ArrayList<>();
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, segment)) {
                    for (Path p : ds) if (Files.isDirectory(p)) matches.add(p);
                } catch (IOException | SecurityException e) {
                    // an unreadable folder holds nothing we can load
                }
                matches.sort(null);
                next.addAll(matches);
            }
            current = next;
        }
        return current;
    }
}
