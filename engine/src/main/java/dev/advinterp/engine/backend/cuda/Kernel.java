package dev.advinterp.engine.backend.cuda;

import dev.advinterp.engine.backend.cuda.KernelArgs.Kind;

import java.util.List;

/**
 * One of the project's CUDA kernels (kernels/src/main/cuda), declared once, in the CUDA family
 * file that launches it: its {@code extern "C"} name, the source file, its parameters in order
 * with the C type of each slot, its launch shape, whether it meets at {@code __syncthreads}, and
 * what it computes. Everything else is made from or checked against the declarations
 * ({@link KernelTable}): each launch's arguments ({@link KernelLauncher}), the functions the
 * driver looks up, the table of the CPU stand-in that runs the kernels in the tests, and the
 * kernel table of kernels/README.md; the tests compare them with the compiled PTX and the CUDA C.
 *
 * @param name     the kernel's {@code extern "C"} name
 * @param source   the file of kernels/src/main/cuda that defines it
 * @param grid     how it is launched
 * @param barriers whether it calls {@code __syncthreads} (the CPU stand-in runs such a block's threads as fibers)
 * @param computes its formula in a few words, for the docs (the source's comment gives the shapes)
 * @param bytes    bytes it moves per element, for the docs
 * @param params   its parameters in order
 */
record Kernel(String name, String source, Grid grid, boolean barriers, String computes, String bytes, List<Param> params) {

    /** One parameter: a name (as in the CUDA C) and the kind of its slot. */
    record Param(String name, Kind kind) {
    }

    Kernel {
        params = List.copyOf(params);
        if (grid instanceof Grid.BlockPer b && params.stream().noneMatch(p -> p.name().equals(b.param()) && p.kind() == Kind.INT)) {
            throw new IllegalArgumentException(name + ": one block per '" + b.param() + "' needs an int parameter of that name");
        }
    }

    static Kernel of(String name, String source, Grid grid, boolean barriers, String computes, String bytes, Param... params) {
        return new Kernel(name, source, grid, barriers, computes, bytes, List.of(params));
    }

    static Param ptr(String name) {
        return new Param(name, Kind.POINTER);
    }

    static Param i32(String name) {
        return new Param(name, Kind.INT);
    }

    static Param i64(String name) {
        return new Param(name, Kind.LONG);
    }

    static Param f32(String name) {
        return new Param(name, Kind.FLOAT);
    }

    static Param f64(String name) {
        return new Param(name, Kind.DOUBLE);
    }

    /** The kinds of the parameters, in order. */
    Kind[] kinds() {
        return params.stream().map(Param::kind).toArray(Kind[]::new);
    }

    /** The position of parameter {@code param}. */
    int indexOf(String param) {
        for (int i = 0; i < params.size(); i++) if (params.get(i).name().equals(param)) return i;
        throw new IllegalArgumentException(name + " has no parameter '" + param + "'");
    }
}
