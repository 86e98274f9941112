package dev.advinterp.engine.backend.cuda;

/**
 * How a kernel is launched, part of its {@link Kernel} declaration: every kernel runs blocks of
 * {@link KernelLauncher#BLOCK} threads (its {@code __launch_bounds__}); the grid is one of these.
 */
sealed interface Grid {

    /**
     * A grid-stride loop over the launch's work items, {@code itemsPerThread} per thread:
     * ⌈items / itemsPerThread / 256⌉ blocks, at most 4096, at least 1; no launch for no items.
     */
    record GridStride(int itemsPerThread) implements Grid {
        @Override
        public String describe() {
            return itemsPerThread == 1 ? "grid-stride over the items" : "grid-stride, " + itemsPerThread + " items per thread";
        }
    }

    /** Exactly {@code blocks} blocks: a reduction whose partials, and so whose result, depend on the grid. */
    record Fixed(int blocks) implements Grid {
        @Override
        public String describe() {
            return blocks + (blocks == 1 ? " block" : " blocks");
        }
    }

    /** One block per unit of the int parameter {@code param} (a row, a channel); no launch for none. */
    record BlockPer(String param) implements Grid {
        @Override
        public String describe() {
            return "`" + param + "` blocks";
        }
    }

    /** Words for the kernel table of the docs. */
    String describe();
}
