package dev.advinterp.engine.backend;

import java.util.Locale;

/**
 * Which device a run asks for: {@code cuda} (fail when CUDA cannot be used), {@code cpu}, or
 * {@code auto} (CUDA when it can be used, else the CPU). The words are the values of the
 * {@code --device} option and of the system property {@code advinterp.device}.
 */
public enum DeviceChoice {
    CUDA,
    CPU,
    AUTO;

    /** The choice named by {@code word} (any case), or an exception that names the word and the choices. */
    public static DeviceChoice parse(String word) {
        if (word != null) {
            switch (word.strip().toLowerCase(Locale.ROOT)) {
                case "cuda" -> {
                    return CUDA;
                }
                case "cpu" -> {
                    return CPU;
                }
                case "auto" -> {
                    return AUTO;
                }
                default -> {
                }
            }
        }
        throw new IllegalArgumentException("device '" + word + "': expected cuda, cpu or auto");
    }

    /** The lower-case word, as typed on the command line. */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }
}
