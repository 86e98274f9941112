package dev.advinterp.kernels;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * The compiled module images of the engine's CUDA kernels, shipped as classpath resources under
 * {@code dev/advinterp/kernels/} (built by {@code kernels/build.sh} from {@code kernels/src/main/cuda}).
 * Which kernels they hold, with what parameters and launch shapes, is declared once, by the
 * engine's CUDA family that launches each (its {@code Kernel} declarations); the tests hold those
 * declarations and these images against the CUDA sources.
 *
 * <p>A device of compute capability 8.x loads the sm_80 cubin, 9.x the sm_90 cubin, and any other
 * the PTX, which the driver compiles for it ({@link #resourceFor(int, int)}).
 */
public final class KernelImages {
    /** PTX for compute_80: runs, after JIT compilation by the driver, on every GPU from compute capability 8.0 on. */
    public static final String PTX = "advinterp_kernels.ptx";
    /** Machine code for compute capability 8.x (8.0 and every later 8.y). */
    public static final String CUBIN_SM80 = "advinterp_kernels.sm_80.cubin";
    /** Machine code for compute capability 9.0. */
    public static final String CUBIN_SM90 = "advinterp_kernels.sm_90.cubin";
    /** ptxas's registers, stack and spills of every kernel, per architecture. */
    public static final String PTXAS_REPORT = "ptxas-report.txt";

    /** Every resource name above. */
    public static final List<String> RESOURCES = List.of(PTX, CUBIN_SM80, CUBIN_SM90, PTXAS_REPORT);

    /** The folder of the resources on the classpath. */
    public static final String RESOURCE_FOLDER = "/dev/advinterp/kernels/";

    /** Threads per block every kernel is compiled for (its {@code __launch_bounds__}); launches must not exceed it. */
    public static final int THREADS_PER_BLOCK = 256;

    /** Blocks of the fixed-grid reductions (sum_partials_f32, feature_matching_f32): exactly this many. */
    public static final int REDUCTION_BLOCKS = 256;

    private KernelImages() {
    }

    /**
     * The image a device of compute capability {@code major.minor} should load: the sm_80 cubin for
     * 8.x, the sm_90 cubin for 9.x, the PTX otherwise (compute capability 10 and later compile it).
     *
     * @throws IllegalArgumentException below compute capability 8.0, which the images do not support
     */
    public static String resourceFor(int major, int minor) {
        if (major < 8 || minor < 0) {
            throw new IllegalArgumentException("the engine's CUDA kernels need a GPU of compute capability 8.0 or later"
                    + " (Ampere); this one reports " + major + "." + minor);
        }
        return switch (major) {
            case 8 -> CUBIN_SM80;
            case 9 -> CUBIN_SM90;
            default -> PTX;
        };
    }

    /**
     * The bytes of resource {@code name} (one of {@link #RESOURCES}).
     *
     * @throws IllegalArgumentException for a name that is not one of the images
     * @throws IllegalStateException    when the resource is missing from the classpath (a broken build)
     */
    public static byte[] bytes(String name) {
        if (!RESOURCES.contains(name)) {
            throw new IllegalArgumentException("unknown kernel image '" + name + "'; the images are " + RESOURCES);
        }
        String path = RESOURCE_FOLDER + name;
        try (InputStream in = KernelImages.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("kernel image " + path + " is not on the classpath; the advinterp-kernels"
                        + " jar is incomplete: rebuild it with `mvn install -pl kernels` (kernels/build.sh --force"
                        + " regenerates the images where nvcc is installed)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read kernel image " + path + ": " + e.getMessage(), e);
        }
    }
}
