package dev.advinterp.engine.backend;

/**
 * The outcome of choosing a device: the backend, what was asked for, and why this backend was
 * taken (for {@code auto} on a machine without a usable GPU, the reason CUDA could not be used),
 * in words ready to print.
 */
public record DeviceSelection(Backend backend, DeviceChoice asked, String reason) {

    /** One line, e.g. {@code cpu (asked: auto; CUDA unavailable: no CUDA driver ...)}. */
    public String describe() {
        return backend.device().name().toLowerCase(java.util.Locale.ROOT) + " (asked: " + asked.word() + "; " + reason + ")";
    }
}
