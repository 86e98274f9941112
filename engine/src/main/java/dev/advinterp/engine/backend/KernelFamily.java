package dev.advinterp.engine.backend;

/**
 * What every family of a backend's kernels says of itself. A family receives tensors that
 * {@link Backend} has checked: present, alive and on the backend's device, and, unless
 * {@link #boundsChecked()}, holding exactly the elements the call will touch.
 */
public interface KernelFamily {

    /**
     * True when the kernels are Java code on bounds-checked segments, so that an argument that
     * does not fit its tensors ends in an exception of the segment's own (never a read or write
     * outside it): Backend then leaves out the size checks, which exist to guard native code
     * (OpenBLAS, cuDNN, cuBLAS, the CUDA kernels).
     */
    default boolean boundsChecked() {
        return false;
    }
}
