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

    @Test
    void everyLaunchedKernelIsInTheImagesAndEveryImageKernelIsLaunched() {
        assertEquals(Set.copyOf(KernelImages.KERNELS), CudaKernels.SIGNATURES.keySet());
        assertEquals(KernelImages.REDUCTION_BLOCKS, CudaKernels.REDUCTION_BLOCKS);
        assertTrue(CudaKernels.BLOCK <= KernelImages.THREADS_PER_BLOCK);
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
        for (String k : CudaKernels.SIGNATURES.keySet()) assertTrue(ptx.contains(".entry " + k), k + " missing from the PTX");
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
            KernelArgs.Kind[] kinds = CudaKernels.SIGNATURES.get(m.group(1));
            assertArrayEquals(Arrays.stream(kinds).map(KernelModuleTest::ptxType).toArray(), types.toArray(),
                    m.group(1) + ": launch kinds " + Arrays.toString(kinds) + " against PTX parameters " + types);
            seen++;
        }
        assertEquals(CudaKernels.SIGNATURES.size(), seen);
    }

    private static KernelArgs.Kind cType(String kernel, String param) {
        String p = param.strip();
        if (p.contains("*")) return KernelArgs.Kind.POINTER;
        if (p.startsWith("float ")) return KernelArgs.Kind.FLOAT;
        if (p.startsWith("long long ") || p.startsWith("unsigned long long ")) return KernelArgs.Kind.LONG;
        if (p.startsWith("int ")) return KernelArgs.Kind.INT;
        throw new AssertionError(kernel + ": parameter type not known to the launcher: " + p);
    }

    /** The same against the CUDA C sources, where a pointer and a 64-bit integer differ. */
    @Test
    void launchSignaturesMatchTheCudaSources() throws IOException {
        // from the engine module (Maven) or from the repository root (the GPU check's launcher)
        Path sources = Stream.of(Path.of("..", "kernels", "src", "main", "cuda"), Path.of("kernels", "src", "main", "cuda"))
                .filter(Files::isDirectory).findFirst().orElse(null);
        assumeTrue(sources != null, "kernels/src/main/cuda is not reachable from " + Path.of("").toAbsolutePath());
        Map<String, KernelArgs.Kind[]> declared = new HashMap<>();
        try (Stream<Path> files = Files.list(sources)) {
            for (Path f : files.filter(f -> f.toString().endsWith(".cu")).toList()) {
                Matcher m = CU_KERNEL.matcher(Files.readString(f));
                while (m.find()) {
                    String name = m.group(1);
                    KernelArgs.Kind[] kinds = Arrays.stream(m.group(2).split(",")).map(p -> cType(name, p))
                            .toArray(KernelArgs.Kind[]::new);
                    assertEquals(null, declared.put(name, kinds), name + " defined twice");
                }
            }
        }
        assertEquals(CudaKernels.SIGNATURES.keySet(), declared.keySet());
        for (var e : CudaKernels.SIGNATURES.entrySet()) {
            assertArrayEquals(e.getValue(), declared.get(e.getKey()), e.getKey() + ": launch kinds against the CUDA source");
        }
    }
}
