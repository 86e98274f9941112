package dev.advinterp.engine.backend.cuda;

import dev.advinterp.engine.backend.cuda.KernelArgs.Kind;

import java.util.Arrays;

/**
 * Launches of the project's kernels from their {@link Kernel} declarations: the arguments are
 * checked against the declared parameters (kind by kind, before the driver would read a slot of
 * the wrong size) and the grid is computed from the declared launch shape. Elementwise kernels
 * loop grid-stride, so they get 256 threads and min(⌈n/256⌉, 4096) blocks; the reductions whose
 * result order depends on the grid get exactly the grid they were written for. Device pointers
 * are plain addresses; 0 is NULL.
 *
 * <p>The launches go through a {@link Launcher}, the driver on a GPU, so that the argument lists
 * and grids can be checked on a machine without one. One launcher per device, used from one thread
 * at a time (it reuses one argument list).
 */
final class KernelLauncher {
    /** Threads per block of every launch: the kernels are compiled with {@code __launch_bounds__(256)}. */
    static final int BLOCK = 256;
    static final int MAX_BLOCKS = 4096;
    /** sum_partials_f32 and feature_matching_f32 write one partial per block of exactly this grid. */
    static final int REDUCTION_BLOCKS = 256;

    /** Runs one kernel by name on a 1-D grid. */
    interface Launcher {
        void launch(String kernel, int grid, int block, KernelArgs args);
    }

    private final Launcher launcher;
    private final KernelArgs args = new KernelArgs();

    KernelLauncher(Launcher launcher) {
        this.launcher = launcher;
    }

    /** Blocks for a grid-stride loop over n items: ⌈n/256⌉ capped at 4096, at least 1. */
    static int elementwiseGrid(long n) {
        return (int) Math.max(1, Math.min((n + BLOCK - 1) / BLOCK, MAX_BLOCKS));
    }

    /** The argument list for the next launch, emptied. */
    KernelArgs args() {
        return args.reset();
    }

    /**
     * Launches grid-stride kernel {@code k} over {@code items} work items (nothing for none) with
     * {@code a}, which must match its declared parameters.
     */
    void launch(Kernel k, long items, KernelArgs a) {
        if (!(k.grid() instanceof Grid.GridStride(int perThread))) {
            throw new IllegalStateException(k.name() + " is launched " + k.grid().describe() + ", not over a count of items");
        }
        check(k, a);
        if (items > 0) launcher.launch(k.name(), elementwiseGrid((items + perThread - 1) / perThread), BLOCK, a);
    }

    /** Launches fixed-grid or block-per kernel {@code k} with {@code a}, which must match its declared parameters. */
    void launch(Kernel k, KernelArgs a) {
        check(k, a);
        switch (k.grid()) {
            case Grid.Fixed(int blocks) -> launcher.launch(k.name(), blocks, BLOCK, a);
            case Grid.BlockPer(String param) -> {
                // a grid of 0 blocks is an invalid launch: nothing to do for no rows or channels
                int blocks = (int) a.bits(k.indexOf(param));
                if (blocks > 0) launcher.launch(k.name(), blocks, BLOCK, a);
            }
            case Grid.GridStride g -> throw new IllegalStateException(k.name() + " is launched over a count of items; give it");
        }
    }

    private static void check(Kernel k, KernelArgs a) {
        Kind[] want = k.kinds();
        if (!Arrays.equals(want, a.signature())) {
            // a programming error in a family file, caught before the driver would read garbage
            throw new IllegalStateException("kernel " + k.name() + " launched with " + Arrays.toString(a.signature())
                    + " but declared " + Arrays.toString(want));
        }
    }
}
