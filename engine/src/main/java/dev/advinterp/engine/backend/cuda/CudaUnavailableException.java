package dev.advinterp.engine.backend.cuda;

import dev.advinterp.engine.backend.DeviceUnavailableException;

/**
 * CUDA cannot be used on this machine: no driver, no GPU, a missing library or a failed
 * initialisation. The message is the reason in words, ready to print, and says what to do.
 */
public final class CudaUnavailableException extends DeviceUnavailableException {
    public CudaUnavailableException(String reason) {
        super("CUDA", reason, null);
    }

    public CudaUnavailableException(String reason, Throwable cause) {
        super("CUDA", reason, cause);
    }
}
