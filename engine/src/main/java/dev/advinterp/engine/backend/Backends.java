package dev.advinterp.engine.backend;

import dev.advinterp.engine.backend.cpu.CpuBackend;

/** The backends of this process. The CPU backend always exists and is the default. */
public final class Backends {
    private Backends() {
    }

    public static CpuBackend cpu() {
        return CpuBackend.instance();
    }

    private static final Backend DEFAULT = Boolean.getBoolean("advinterp.profile") ? new ProfilingBackend(cpu()) : cpu();

    /**
     * The backend that factories such as {@code Tensor.of} allocate on: the CPU, wrapped in a
     * {@link ProfilingBackend} when the system property {@code advinterp.profile} is true.
     */
    public static Backend defaultBackend() {
        return DEFAULT;
    }
}
