package dev.advinterp.engine.backend.cuda;

import java.util.List;
import java.util.stream.Stream;

/**
 * Every kernel of the module, gathered from the CUDA family files that declare them (one
 * {@link Kernel} each): the list the tests hold against the compiled PTX and the CUDA C sources,
 * from which the CPU stand-in's kernel table and the kernel table of kernels/README.md are made.
 * A new kernel of an existing family is declared in that family's file and appears here by itself.
 */
final class KernelTable {
    static final List<Kernel> ALL = Stream.of(CudaElementwise.KERNELS, CudaReductions.KERNELS, CudaPooling.KERNELS,
            CudaBatchNorm.KERNELS, CudaFused.KERNELS).flatMap(List::stream).toList();

    private KernelTable() {
    }

    /** The declaration of kernel {@code name}. */
    static Kernel named(String name) {
        for (Kernel k : ALL) if (k.name().equals(name)) return k;
        throw new IllegalArgumentException("no kernel named " + name + " is declared");
    }
}
