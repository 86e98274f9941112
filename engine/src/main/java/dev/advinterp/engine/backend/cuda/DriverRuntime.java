package dev.advinterp.engine.backend.cuda;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/**
 * {@link DeviceRuntime} over the CUDA driver API: GPU {@code ordinal}'s primary context, one
 * non-blocking stream, and the project's kernel module (the cubin for the GPU's architecture, else
 * the PTX).
 */
final class DriverRuntime implements DeviceRuntime {
    private final CudaDriver driver;
    private final int device;
    private final MemorySegment context;
    private final MemorySegment stream;
    private final MemorySegment module;
    private final Map<String, MemorySegment> functions = new HashMap<>();
    private final String description;

    /**
     * Initialises the driver and retains the primary context of GPU {@code ordinal}; if anything
     * after that fails, the context is released before the exception leaves, or a later open would
     * find the device in use.
     */
    DriverRuntime(CudaDriver driver, int ordinal) {
        this.driver = driver;
        driver.init();
        this.device = driver.device(ordinal);
        this.context = driver.retainPrimaryContext(device);
        MemorySegment s = null, m = null;
        try {
            s = driver.streamCreate(CudaDriver.CU_STREAM_NON_BLOCKING);
            int major = driver.attribute(device, CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
            int minor = driver.attribute(device, CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
            KernelModule.Image image = KernelModule.imageFor(major, minor);
            m = KernelModule.load(driver, image);
            int dv = driver.driverVersion();
            this.description = "CUDA GPU " + ordinal + ": " + driver.deviceName(device) + " (sm_" + major + minor + ", "
                    + (driver.deviceTotalMem(device) >> 20) + " MiB), driver " + (dv / 1000) + "." + (dv % 1000 / 10)
                    + ", kernels " + image.name();
        } catch (RuntimeException | LinkageError e) {
            try {
                if (m != null) driver.moduleUnload(m);
                if (s != null) driver.streamDestroy(s);
                driver.releasePrimaryContext(device);
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        this.stream = s;
        this.module = m;
    }

    @Override
    public void bindThread() {
        driver.setCurrent(context);
    }

    @Override
    public void synchronize() {
        driver.streamSynchronize(stream);
    }

    @Override
    public long malloc(long bytes) {
        return driver.memAlloc(bytes);
    }

    @Override
    public void free(long address) {
        driver.memFree(address);
    }

    @Override
    public MemorySegment mallocHost(long bytes) {
        return driver.memAllocHost(bytes);
    }

    @Override
    public void freeHost(MemorySegment host) {
        driver.memFreeHost(host);
    }

    @Override
    public void copyToDevice(long dst, MemorySegment src, long bytes) {
        driver.memcpyHtoDAsync(dst, src, bytes, stream);
    }

    @Override
    public void copyToHost(MemorySegment dst, long src, long bytes) {
        driver.memcpyDtoHAsync(dst, src, bytes, stream);
    }

    @Override
    public void copyOnDevice(long dst, long src, long bytes) {
        driver.memcpyDtoDAsync(dst, src, bytes, stream);
    }

    @Override
    public void fill32(long dst, int bits, long count) {
        driver.memsetD32Async(dst, bits, count, stream);
    }

    /** The function is looked up in the module at its first launch (a kernel missing from the image fails there, by name). */
    @Override
    public void launch(String kernel, int grid, int block, KernelArgs args) {
        MemorySegment f = functions.get(kernel);
        if (f == null) {
            f = driver.moduleGetFunction(module, kernel);
            functions.put(kernel, f);
        }
        driver.launch(kernel, f, grid, block, stream, args);
    }

    @Override
    public MemorySegment stream() {
        return stream;
    }

    @Override
    public String describe() {
        return description;
    }

    /** Each release is tried even when an earlier one fails; the first failure is thrown, the others suppressed in it. */
    @Override
    public void close() {
        RuntimeException failure = Releases.runAll(() -> driver.moduleUnload(module), () -> driver.streamDestroy(stream),
                () -> driver.releasePrimaryContext(device));
        if (failure != null) throw failure;
    }
}
