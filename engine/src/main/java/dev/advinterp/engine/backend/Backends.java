package dev.advinterp.engine.backend;

import dev.advinterp.engine.backend.cpu.CpuBackend;

/** The backends of this process. The CPU backend always exists and is the default. */
public final class Backends {
    private Backends() {
    }

    public static CpuBackend cpu() {
        return CpuBackend.instance();
    }

    /** The backend that factories such as {@code Tensor.of} allocate on. */
    public static Backend defaultBackend() {
        return cpu();
    }
}
