package dev.advinterp.engine.backend.cuda;

import dev.advinterp.kernels.KernelImages;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The backend's view of the kernel images agrees with what the kernels module ships. */
class KernelModuleTest {

    /** The declarations by name, each name once. */
    private static Map<String, Kernel> declared() {
        Map<String, Kernel> m = new HashMap<>();
        for (Kernel k : KernelTable.ALL) assertEquals(null, m.put(k.name(), k), k.name() + " declared twice");
        return m;
    }

    @Test
    void everyDeclaredKernelIsInTheImagesAndEveryImageKernelIsDeclared() {
        String ptx = new String(KernelImages.bytes(KernelImages.PTX), StandardCharsets.US_ASCII);
        Set<String> entries = new java.util.TreeSet<>();
        Matcher m = PTX_ENTRY.matcher(ptx);
        while (m.find()) entries.add(m.group(1));
        assertEquals(new java.util.TreeSet<>(declared().keySet()), entries);
        assertEquals(KernelImages.REDUCTION_BLOCKS, KernelLauncher.REDUCTION_BLOCKS);
        assertTrue(KernelLauncher.BLOCK <= KernelImages.THREADS_PER_BLOCK);
    }

    @Test
    void imagesArePickedByComputeCapabilityAndThePtxNamesEveryKernel() {
        KernelModule.Image hopper = KernelModule.imageFor(9, 0), ampere = KernelModule.imageFor(8, 6);
        assertEquals(KernelImages.CUBIN_SM90, hopper.name());
        assertEquals(KernelImages.CUBIN_SM80, ampere.name());
        assertFalse(hopper.ptx());
        KernelModule.Image blackwell = KernelModule.imageFor(10, 0);
        assertTrue(blackwell.ptx());
        String ptx = new String(blackwell.bytes(), StandardCharsets.US_ASCII);
        for (Kernel k : KernelTable.ALL) assertTrue(ptx.contains(".entry " + k.name()), k.name() + " missing from the PTX");
    }

    @Test
    void aGpuOlderThanAmpereIsUnavailableWithAReason() {
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class, () -> KernelModule.imageFor(7, 5));
        assertTrue(e.getMessage().contains("7.5"), e.getMessage());
    }

    // ---------------------------------------------------------------- argument lists

    private static final Pattern PTX_ENTRY = Pattern.compile("\\.visible \\.entry (\\w+)\\(([^)]*)\\)");
    private static final Pattern PTX_PARAM = Pattern.compile("\\.param \\.(\\w+) \\w+");
    private static final Pattern CU_KERNEL = Pattern.compile(
            "extern \"C\" __global__ void __launch_bounds__\\(\\w+\\)\\s+(\\w+)\\(([^)]*)\\)");

    /** What a launch argument of each kind must be in PTX: 8-byte integers for pointers and longs. */
    private static String ptxType(KernelArgs.Kind k) {
        return switch (k) {
            case POINTER, LONG -> "u64";
            case INT -> "u32";
            case FLOAT -> "f32";
            case DOUBLE -> "f64";
        };
    }

    /**
     * The driver copies each launch argument by the size the kernel declares, so a kind that
     * differs from the compiled parameter (an int passed where the kernel reads 8 bytes, a float
     * where it reads an int) would shift or garble every argument after it.
     */
    @Test
    void launchSignaturesMatchThePtxParameterTypes() {
        String ptx = new String(KernelImages.bytes(KernelImages.PTX), StandardCharsets.US_ASCII);
        Matcher m = PTX_ENTRY.matcher(ptx);
        int seen = 0;
        while (m.find()) {
            List<String> types = new ArrayList<>();
            Matcher p = PTX_PARAM.matcher(m.group(2));
            while (p.find()) types.add(p.group(1));
            KernelArgs.Kind[] kinds = KernelTable.named(m.group(1)).kinds();
            assertArrayEquals(Arrays.stream(kinds).map(KernelModuleTest::ptxType).toArray(), types.toArray(),
                    m.group(1) + ": launch kinds " + Arrays.toString(kinds) + " against PTX parameters " + types);
            seen++;
        }
        assertEquals(KernelTable.ALL.size(), seen);
    }

    private static KernelArgs.Kind cType(String kernel, String param) {
        String p = param.strip();
        if (p.contains("*")) return KernelArgs.Kind.POINTER;
        if (p.startsWith("float ")) return KernelArgs.Kind.FLOAT;
        if (p.startsWith("double ")) return KernelArgs.Kind.DOUBLE;
        if (p.startsWith("long long ") || p.startsWith("unsigned long long ")) return KernelArgs.Kind.LONG;
        if (p.startsWith("int ")) return KernelArgs.Kind.INT;
        throw new AssertionError(kernel + ": parameter type not known to the launcher: " + p);
    }

    /** What the CUDA C says of a kernel: its file, its parameters' names and kinds, whether it meets at a barrier. */
    private record Defined(String file, List<String> names, KernelArgs.Kind[] kinds, boolean barriers) {
    }

    /** The body of the function whose opening brace is at {@code open}. */
    private static String body(String text, int open) {
        int depth = 0;
        for (int i = open; i < text.length(); i++) {
            if (text.charAt(i) == '{') depth++;
            else if (text.charAt(i) == '}' && --depth == 0) return text.substring(open, i + 1);
        }
        throw new AssertionError("unbalanced braces after offset " + open);
    }

    private static final Pattern DEVICE_FUNCTION = Pattern.compile("__device__[^;{(]*?\\b(\\w+)\\s*\\([^)]*\\)\\s*\\{");

    /**
     * The kernels the CUDA C defines. A kernel meets at a barrier when its body calls
     * {@code __syncthreads} or a device function that does (common.cuh's block_reduce).
     */
    static Map<String, Defined> definedInSources() throws IOException {
        // from the engine module (Maven) or from the repository root (the GPU check's launcher)
        Path sources = Stream.of(Path.of("..", "kernels", "src", "main", "cuda"), Path.of("kernels", "src", "main", "cuda"))
                .filter(Files::isDirectory).findFirst().orElse(null);
        assumeTrue(sources != null, "kernels/src/main/cuda is not reachable from " + Path.of("").toAbsolutePath());
        Map<Path, String> texts = new java.util.TreeMap<>();
        try (Stream<Path> files = Files.list(sources)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".cu") || f.toString().endsWith(".cuh")).toList()) {
                texts.put(f, Files.readString(f));
            }
        }
        // device functions and their bodies; a helper meets at a barrier when it calls __syncthreads
        // or another helper that does (block_sum_f64 through block_reduce)
        Map<String, String> helpers = new HashMap<>();
        for (String text : texts.values()) {
            Matcher d = DEVICE_FUNCTION.matcher(text);
            while (d.find()) helpers.put(d.group(1), body(text, d.end() - 1));
        }
        Set<String> barrierHelpers = new java.util.HashSet<>();
        for (boolean grew = true; grew; ) {
            grew = false;
            for (var h : helpers.entrySet()) {
                if (barrierHelpers.contains(h.getKey())) continue;
                String b = h.getValue();
                if (b.contains("__syncthreads") || barrierHelpers.stream().anyMatch(x -> b.contains(x + "("))) {
                    grew = barrierHelpers.add(h.getKey());
                }
            }
        }
        Map<String, Defined> defined = new HashMap<>();
        for (var e : texts.entrySet()) {
            String text = e.getValue();
            Matcher m = CU_KERNEL.matcher(text);
            while (m.find()) {
                String name = m.group(1);
                List<String> params = Arrays.stream(m.group(2).split(",")).map(String::strip).toList();
                KernelArgs.Kind[] kinds = params.stream().map(p -> cType(name, p)).toArray(KernelArgs.Kind[]::new);
                List<String> names = params.stream().map(p -> p.substring(p.lastIndexOf(' ') + 1).replace("*", "")).toList();
                int open = text.indexOf('{', m.end());
                String body = body(text, open);
                boolean barriers = body.contains("__syncthreads") || barrierHelpers.stream().anyMatch(h -> body.contains(h + "("));
                assertEquals(null, defined.put(name, new Defined(e.getKey().getFileName().toString(), names, kinds, barriers)),
                        name + " defined twice");
            }
        }
        return defined;
    }

    /**
     * The declarations against the CUDA C sources, where a pointer and a 64-bit integer differ:
     * the same kernels, each in its declared file with its parameters' kinds and names in order, and
     * declared as meeting at a barrier exactly when it does (the CPU stand-in runs only those as fibers).
     */
    @Test
    void declarationsMatchTheCudaSources() throws IOException {
        Map<String, Defined> defined = definedInSources();
        assertEquals(declared().keySet(), defined.keySet());
        for (Kernel k : KernelTable.ALL) {
            Defined d = defined.get(k.name());
            assertArrayEquals(k.kinds(), d.kinds(), k.name() + ": launch kinds against the CUDA source");
            assertEquals(k.params().stream().map(Kernel.Param::name).toList(), d.names(), k.name() + ": parameter names");
            assertEquals(k.source(), d.file(), k.name() + ": source file");
            assertEquals(k.barriers(), d.barriers(), k.name() + ": meets at __syncthreads");
        }
    }
}
