package dev.advinterp.engine.backend.cuda;

/**
 * A CUDA driver, cuBLAS or cuDNN call returned an error status. Carries the library, the call,
 * the numeric status and its name as the library spells it (e.g. CUDA_ERROR_OUT_OF_MEMORY).
 */
public final class CudaException extends RuntimeException {
    private final String library;
    private final String call;
    private final int status;
    private final String statusName;

    public CudaException(String library, String call, int status, String statusName, String detail) {
        super(library + " call " + call + " failed with " + statusName + " (" + status + ")"
                + (detail == null || detail.isEmpty() ? "" : ": " + detail));
        this.library = library;
        this.call = call;
        this.status = status;
        this.statusName = statusName;
    }

    /** "CUDA driver", "cuBLAS" or "cuDNN". */
    public String library() {
        return library;
    }

    /** The function that failed, e.g. cuMemAlloc_v2. */
    public String call() {
        return call;
    }

    public int status() {
        return status;
    }

    public String statusName() {
        return statusName;
    }
}
