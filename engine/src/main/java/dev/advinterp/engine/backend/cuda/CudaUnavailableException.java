package dev.advinterp.engine.backend.cuda;

/**
 * CUDA cannot be used on this machine: no driver, no GPU, a missing library or a failed
 * initialisation. The message is the reason in words, ready to print, and says what to do.
 */
public final class CudaUnavailableException extends RuntimeException {
    public CudaUnavailableException(String reason) {
        super(reason);
    }

    public CudaUnavailableException(String reason, Throwable cause) {
        super(reason, cause);
    }
}
