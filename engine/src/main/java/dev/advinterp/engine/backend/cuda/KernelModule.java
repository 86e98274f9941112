package dev.advinterp.engine.backend.cuda;

import dev.advinterp.kernels.KernelImages;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The project's compiled kernels as a CUDA module: the image {@link KernelImages#resourceFor}
 * names for the device (the sm_80 or sm_90 cubin, else the PTX, which the driver compiles for the
 * device at load time: slower to load, same results).
 */
final class KernelModule {

    /** A module image: its resource name, bytes, and whether it is PTX text. */
    record Image(String name, byte[] bytes, boolean ptx) {
    }

    private KernelModule() {
    }

    static Image imageFor(int ccMajor, int ccMinor) {
        String name;
        try {
            name = KernelImages.resourceFor(ccMajor, ccMinor);
        } catch (IllegalArgumentException e) {
            throw new CudaUnavailableException(e.getMessage(), e);
        }
        return read(name);
    }

    private static Image read(String name) {
        try {
            return new Image(name, KernelImages.bytes(name), name.equals(KernelImages.PTX));
        } catch (IllegalStateException | java.io.UncheckedIOException e) {
            throw new CudaUnavailableException(e.getMessage(), e);
        }
    }

    /**
     * Loads the image; a cubin the driver rejects (built for another revision of the
     * architecture) falls back to the PTX.
     */
    static MemorySegment load(CudaDriver driver, Image image) {
        try {
            return loadBytes(driver, image);
        } catch (CudaException e) {
            if (image.ptx()) throw e;
            return loadBytes(driver, read(KernelImages.PTX));
        }
    }

    private static MemorySegment loadBytes(CudaDriver driver, Image image) {
        try (Arena arena = Arena.ofConfined()) {
            // PTX is read by the driver as a NUL-terminated string; a cubin carries its own length.
            // cuModuleLoadData copies the image, so the buffer may go when the call returns.
            MemorySegment m = arena.allocate(image.bytes().length + 1L, 16);
            MemorySegment.copy(image.bytes(), 0, m, ValueLayout.JAVA_BYTE, 0, image.bytes().length);
            m.set(ValueLayout.JAVA_BYTE, image.bytes().length, (byte) 0);
            return driver.moduleLoadData(m);
        }
    }
}
