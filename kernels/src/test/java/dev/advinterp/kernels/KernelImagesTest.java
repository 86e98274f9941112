package dev.advinterp.kernels;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The committed module images hold every kernel of the CUDA sources and no spilling one. Runs on
 * any machine: it reads the images, it does not load them on a GPU.
 */
class KernelImagesTest {
    private static final Pattern KERNEL = Pattern.compile("extern \"C\" __global__ void __launch_bounds__\\(\\w+\\)\\s+(\\w+)\\(");

    /** The kernels src/main/cuda defines (the module's working directory is kernels/). */
    private static Set<String> kernelsOfTheSources() throws IOException {
        Set<String> names = new TreeSet<>();
        try (Stream<Path> files = Files.list(Path.of("src", "main", "cuda"))) {
            for (Path f : files.filter(f -> f.toString().endsWith(".cu")).toList()) {
                Matcher m = KERNEL.matcher(Files.readString(f));
                while (m.find()) assertTrue(names.add(m.group(1)), m.group(1) + " defined twice");
            }
        }
        assertTrue(names.size() > 10, "too few kernels found in src/main/cuda: " + names);
        return names;
    }
    private static final Pattern ENTRY = Pattern.compile("\\.visible \\.entry (\\w+)\\(");
    /** A line of the report's per-architecture summary: kernel, registers, stack, spill stores, spill loads, smem. */
    private static final Pattern SUMMARY = Pattern.compile("^(\\w+_f(?:32|64))\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)$");

    @Test
    void everyKernelOfTheSourcesIsAnEntryOfThePtxAndNothingElseIs() throws IOException {
        String ptx = new String(KernelImages.bytes(KernelImages.PTX), StandardCharsets.US_ASCII);
        assertTrue(ptx.contains(".target sm_80"), "the PTX targets compute_80");
        Set<String> entries = new TreeSet<>();
        Matcher m = ENTRY.matcher(ptx);
        while (m.find()) entries.add(m.group(1));
        assertEquals(kernelsOfTheSources(), entries, "the kernels declared in the PTX must be exactly those of src/main/cuda");
    }

    @Test
    void ptxHasNoFusedSinglePrecisionMultiplyAdd() {
        // The build disables contraction so that elementwise results match the CPU's bit for bit.
        String ptx = new String(KernelImages.bytes(KernelImages.PTX), StandardCharsets.US_ASCII);
        assertTrue(ptx.contains("mul.rn.f32"), "products are rounded on their own");
        assertTrue(!ptx.contains("fma.rn.f32") && !ptx.contains("mad.f32"), "a float32 fused multiply-add slipped in");
    }

    @Test
    void cubinsAreElfImages() throws IOException {
        for (String name : List.of(KernelImages.CUBIN_SM80, KernelImages.CUBIN_SM90)) {
            byte[] b = KernelImages.bytes(name);
            assertTrue(b.length > 1024, name + " is " + b.length + " bytes");
            assertArrayEquals(new byte[]{0x7f, 'E', 'L', 'F'}, java.util.Arrays.copyOf(b, 4), name + " is not an ELF file");
            String text = new String(b, StandardCharsets.ISO_8859_1);
            for (String k : kernelsOfTheSources()) assertTrue(text.contains(".text." + k), name + " lacks the code of " + k);
        }
    }

    @Test
    void reportListsEveryKernelForBothArchitecturesWithoutSpills() throws IOException {
        Set<String> kernels = kernelsOfTheSources();
        String report = new String(KernelImages.bytes(KernelImages.PTXAS_REPORT), StandardCharsets.UTF_8);
        for (String arch : List.of("sm_80", "sm_90")) {
            int at = report.indexOf("## " + arch + "\n");
            assertTrue(at >= 0, "the report has no section for " + arch);
            int end = report.indexOf("### ptxas -v", at);
            List<String> seen = new ArrayList<>();
            for (String line : report.substring(at, end).split("\n")) {
                Matcher m = SUMMARY.matcher(line.strip());
                if (!m.matches()) continue;
                seen.add(m.group(1));
                int registers = Integer.parseInt(m.group(2));
                assertTrue(registers > 0 && registers <= 255, line);
                assertEquals(0, Integer.parseInt(m.group(4)), arch + ": " + m.group(1) + " has spill stores: " + line);
                assertEquals(0, Integer.parseInt(m.group(5)), arch + ": " + m.group(1) + " has spill loads: " + line);
                assertEquals(0, Integer.parseInt(m.group(3)), arch + ": " + m.group(1) + " uses a stack frame: " + line);
            }
            assertEquals(kernels, new TreeSet<>(seen), arch + ": kernels in the report");
            assertEquals(kernels.size(), seen.size(), arch + ": a kernel reported twice");
        }
        assertTrue(!report.contains("Compile time"), "timings would make the report differ between builds");
    }

    @Test
    void deviceGenerationsMapToTheirImage() {
        assertEquals(KernelImages.CUBIN_SM80, KernelImages.resourceFor(8, 0));
        assertEquals(KernelImages.CUBIN_SM80, KernelImages.resourceFor(8, 9));
        assertEquals(KernelImages.CUBIN_SM90, KernelImages.resourceFor(9, 0));
        assertEquals(KernelImages.PTX, KernelImages.resourceFor(10, 0));
        assertEquals(KernelImages.PTX, KernelImages.resourceFor(12, 0));
        var old = assertThrows(IllegalArgumentException.class, () -> KernelImages.resourceFor(7, 5));
        assertTrue(old.getMessage().contains("7.5"), old.getMessage());
    }

    @Test
    void unknownImageNamesAreRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> KernelImages.bytes("advinterp_kernels.sm_70.cubin"));
        assertTrue(e.getMessage().contains("sm_70") && e.getMessage().contains(KernelImages.PTX), e.getMessage());
    }
}
