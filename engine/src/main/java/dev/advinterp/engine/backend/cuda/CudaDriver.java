package dev.advinterp.engine.backend.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * FFM bindings to the CUDA driver API (libcuda.so.1), the calls the backend needs and nothing
 * more. Signatures follow CUDA 13's cuda.h: the names that header #defines to versioned entry
 * points are bound by their versioned names (cuMemAlloc_v2, cuMemFree_v2, cuMemGetInfo_v2,
 * cuMemcpy*Async_v2, cuMemAllocHost_v2, cuStreamDestroy_v2, cuEventDestroy_v2,
 * cuEventElapsedTime_v2 with the unversioned name as fallback for drivers older than 12.8,
 * cuDevicePrimaryCtxRelease_v2, cuDeviceTotalMem_v2). The context is the device's primary
 * context (cuDevicePrimaryCtxRetain + cuCtxSetCurrent), whose API did not change in CUDA 13 as
 * cuCtxCreate's did. CUdeviceptr is a 64-bit integer, every handle (context, stream, module,
 * function, event) a pointer, CUdevice an int.
 *
 * <p>Not thread-safe: the backend drives one stream from one thread at a time, and this class
 * reuses small argument buffers between calls.
 */
final class CudaDriver {
    static final String LIBRARY = "CUDA driver";
    // cuda.h, enum CUdevice_attribute
    static final int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    // cuda.h, enum CUstream_flags / CUevent_flags
    static final int CU_STREAM_NON_BLOCKING = 1;
    static final int CU_EVENT_DEFAULT = 0;
    /** Largest kernel argument list the backend packs (fgsm_step_f32 has 11). */
    static final int MAX_KERNEL_ARGS = 16;

    private final NativeLibrary lib;
    private final MethodHandle cuInit, cuDriverGetVersion, cuDeviceGet, cuDeviceGetName, cuDeviceTotalMem,
            cuDeviceGetAttribute, cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRelease, cuCtxSetCurrent,
            cuMemAlloc, cuMemFree, cuMemAllocHost, cuMemFreeHost, cuMemGetInfo, cuMemcpyHtoDAsync,
            cuMemcpyDtoHAsync, cuMemcpyDtoDAsync, cuMemsetD32Async, cuStreamCreate, cuStreamSynchronize,
            cuStreamDestroy, cuModuleLoadData, cuModuleUnload, cuModuleGetFunction, cuLaunchKernel,
            cuEventCreate, cuEventRecord, cuEventSynchronize, cuEventElapsedTime, cuEventDestroy,
            cuGetErrorName, cuGetErrorString;

    /** Out-parameters and kernel arguments, reused (single-threaded use). */
    private final Arena arena = Arena.ofShared();
    private final MemorySegment out8 = arena.allocate(16, 8);
    private final MemorySegment out8b = arena.allocate(16, 8);
    private final MemorySegment argValues = arena.allocate(8L * MAX_KERNEL_ARGS, 8);
    private final MemorySegment argPointers = arena.allocate(8L * MAX_KERNEL_ARGS, 8);

    CudaDriver(Path libcuda) {
        lib = NativeLibrary.load("libcuda.so.1", libcuda);
        cuInit = h("cuInit", JAVA_INT);
        cuDriverGetVersion = h("cuDriverGetVersion", ADDRESS);
        cuDeviceGet = h("cuDeviceGet", ADDRESS, JAVA_INT);
        cuDeviceGetName = h("cuDeviceGetName", ADDRESS, JAVA_INT, JAVA_INT);
        cuDeviceTotalMem = h("cuDeviceTotalMem_v2", ADDRESS, JAVA_INT);
        cuDeviceGetAttribute = h("cuDeviceGetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
        cuDevicePrimaryCtxRetain = h("cuDevicePrimaryCtxRetain", ADDRESS, JAVA_INT);
        cuDevicePrimaryCtxRelease = h("cuDevicePrimaryCtxRelease_v2", JAVA_INT);
        cuCtxSetCurrent = h("cuCtxSetCurrent", ADDRESS);
        cuMemAlloc = h("cuMemAlloc_v2", ADDRESS, JAVA_LONG);
        cuMemFree = h("cuMemFree_v2", JAVA_LONG);
        cuMemAllocHost = h("cuMemAllocHost_v2", ADDRESS, JAVA_LONG);
        cuMemFreeHost = h("cuMemFreeHost", ADDRESS);
        cuMemGetInfo = h("cuMemGetInfo_v2", ADDRESS, ADDRESS);
        cuMemcpyHtoDAsync = h("cuMemcpyHtoDAsync_v2", JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS);
        cuMemcpyDtoHAsync = h("cuMemcpyDtoHAsync_v2", ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS);
        cuMemcpyDtoDAsync = h("cuMemcpyDtoDAsync_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS);
        cuMemsetD32Async = h("cuMemsetD32Async", JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS);
        cuStreamCreate = h("cuStreamCreate", ADDRESS, JAVA_INT);
        cuStreamSynchronize = h("cuStreamSynchronize", ADDRESS);
        cuStreamDestroy = h("cuStreamDestroy_v2", ADDRESS);
        cuModuleLoadData = h("cuModuleLoadData", ADDRESS, ADDRESS);
        cuModuleUnload = h("cuModuleUnload", ADDRESS);
        cuModuleGetFunction = h("cuModuleGetFunction", ADDRESS, ADDRESS, ADDRESS);
        cuLaunchKernel = h("cuLaunchKernel", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        cuEventCreate = h("cuEventCreate", ADDRESS, JAVA_INT);
        cuEventRecord = h("cuEventRecord", ADDRESS, ADDRESS);
        cuEventSynchronize = h("cuEventSynchronize", ADDRESS);
        cuEventElapsedTime = lib.handle(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS),
                "cuEventElapsedTime_v2", "cuEventElapsedTime");
        cuEventDestroy = h("cuEventDestroy_v2", ADDRESS);
        cuGetErrorName = h("cuGetErrorName", JAVA_INT, ADDRESS);
        cuGetErrorString = h("cuGetErrorString", JAVA_INT, ADDRESS);
    }

    private MethodHandle h(String name, java.lang.foreign.MemoryLayout... args) {
        return lib.handle(name, FunctionDescriptor.of(JAVA_INT, args));
    }

    Path path() {
        return lib.path();
    }

    // ---------------------------------------------------------------- errors

    /** Throws a {@link CudaException} naming {@code call} unless {@code rc} is CUDA_SUCCESS. */
    void check(String call, int rc) {
        if (rc != 0) throw new CudaException(LIBRARY, call, rc, errorName(rc), errorString(rc));
    }

    String errorName(int rc) {
        return message(cuGetErrorName, rc, "CUresult " + rc);
    }

    private String errorString(int rc) {
        return message(cuGetErrorString, rc, "");
    }

    private String message(MethodHandle mh, int rc, String fallback) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            int r = (int) mh.invokeExact(rc, p);
            MemorySegment s = p.get(ADDRESS, 0);
            if (r != 0 || s.equals(MemorySegment.NULL)) return fallback;
            return s.reinterpret(4096).getString(0);
        } catch (Throwable t) {
            return fallback;
        }
    }

    // ---------------------------------------------------------------- device and context

    void init() {
        try {
            check("cuInit", (int) cuInit.invokeExact(0));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuInit", t);
        }
    }

    int driverVersion() {
        try {
            check("cuDriverGetVersion", (int) cuDriverGetVersion.invokeExact(out8));
            return out8.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuDriverGetVersion", t);
        }
    }

    int device(int ordinal) {
        try {
            check("cuDeviceGet(" + ordinal + ")", (int) cuDeviceGet.invokeExact(out8, ordinal));
            return out8.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuDeviceGet", t);
        }
    }

    String deviceName(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(256);
            check("cuDeviceGetName", (int) cuDeviceGetName.invokeExact(buf, 256, device));
            return buf.getString(0);
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuDeviceGetName", t);
        }
    }

    long deviceTotalMem(int device) {
        try {
            check("cuDeviceTotalMem_v2", (int) cuDeviceTotalMem.invokeExact(out8, device));
            return out8.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuDeviceTotalMem_v2", t);
        }
    }

    int attribute(int device, int attribute) {
        try {
            check("cuDeviceGetAttribute(" + attribute + ")", (int) cuDeviceGetAttribute.invokeExact(out8, attribute, device));
            return out8.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuDeviceGetAttribute", t);
        }
    }

    /** Retains the device's primary context and makes it current on the calling thread. */
    MemorySegment retainPrimaryContext(int device) {
        try {
            check("cuDevicePrimaryCtxRetain", (int) cuDevicePrimaryCtxRetain.invokeExact(out8, device));
            MemorySegment ctx = out8.get(ADDRESS, 0);
            setCurrent(ctx);
            return ctx;
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuDevicePrimaryCtxRetain", t);
        }
    }

    /**
     * Makes {@code ctx} current on the calling thread. Cheap when it already is; the backend calls
     * it at each entry point that may run on a thread other than the one that opened it.
     */
    void setCurrent(MemorySegment ctx) {
        try {
            check("cuCtxSetCurrent", (int) cuCtxSetCurrent.invokeExact(ctx));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuCtxSetCurrent", t);
        }
    }

    void releasePrimaryContext(int device) {
        try {
            check("cuDevicePrimaryCtxRelease_v2", (int) cuDevicePrimaryCtxRelease.invokeExact(device));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuDevicePrimaryCtxRelease_v2", t);
        }
    }

    // ---------------------------------------------------------------- memory

    /** A device allocation, or 0 when the device is out of memory (what RawAllocator.malloc promises). */
    long memAlloc(long bytes) {
        try {
            int rc = (int) cuMemAlloc.invokeExact(out8, bytes);
            if (rc == CUDA_ERROR_OUT_OF_MEMORY) return 0L;
            check("cuMemAlloc_v2(" + bytes + " bytes)", rc);
            return out8.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuMemAlloc_v2", t);
        }
    }

    /** cuda.h, enum cudaError_enum. */
    static final int CUDA_ERROR_OUT_OF_MEMORY = 2;

    void memFree(long devicePtr) {
        try {
            check("cuMemFree_v2", (int) cuMemFree.invokeExact(devicePtr));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuMemFree_v2", t);
        }
    }

    /** Page-locked host memory (the staging buffer for transfers), as a segment of {@code bytes}. */
    MemorySegment memAllocHost(long bytes) {
        try {
            check("cuMemAllocHost_v2(" + bytes + " bytes)", (int) cuMemAllocHost.invokeExact(out8, bytes));
            return out8.get(ADDRESS, 0).reinterpret(bytes);
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuMemAllocHost_v2", t);
        }
    }

    void memFreeHost(MemorySegment host) {
        try {
            check("cuMemFreeHost", (int) cuMemFreeHost.invokeExact(host));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuMemFreeHost", t);
        }
    }

    /** {free, total} bytes of the current context's device. */
    long[] memGetInfo() {
        try {
            check("cuMemGetInfo_v2", (int) cuMemGetInfo.invokeExact(out8, out8b));
            return new long[]{out8.get(JAVA_LONG, 0), out8b.get(JAVA_LONG, 0)};
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuMemGetInfo_v2", t);
        }
    }

    void memcpyHtoDAsync(long dst, MemorySegment src, long bytes, MemorySegment stream) {
        try {
            check("cuMemcpyHtoDAsync_v2", (int) cuMemcpyHtoDAsync.invokeExact(dst, src, bytes, stream));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuMemcpyHtoDAsync_v2", t);
        }
    }

    void memcpyDtoHAsync(MemorySegment dst, long src, long bytes, MemorySegment stream) {
        try {
            check("cuMemcpyDtoHAsync_v2", (int) cuMemcpyDtoHAsync.invokeExact(dst, src, bytes, stream));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuMemcpyDtoHAsync_v2", t);
        }
    }

    void memcpyDtoDAsync(long dst, long src, long bytes, MemorySegment stream) {
        try {
            check("cuMemcpyDtoDAsync_v2", (int) cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuMemcpyDtoDAsync_v2", t);
        }
    }

    /** Sets {@code count} 32-bit words at {@code dst} to {@code bits} (e.g. Float.floatToRawIntBits(v)). */
    void memsetD32Async(long dst, int bits, long count, MemorySegment stream) {
        try {
            check("cuMemsetD32Async", (int) cuMemsetD32Async.invokeExact(dst, bits, count, stream));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuMemsetD32Async", t);
        }
    }

    // ---------------------------------------------------------------- streams, events

    MemorySegment streamCreate(int flags) {
        try {
            check("cuStreamCreate", (int) cuStreamCreate.invokeExact(out8, flags));
            return out8.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuStreamCreate", t);
        }
    }

    void streamSynchronize(MemorySegment stream) {
        try {
            check("cuStreamSynchronize", (int) cuStreamSynchronize.invokeExact(stream));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuStreamSynchronize", t);
        }
    }

    void streamDestroy(MemorySegment stream) {
        try {
            check("cuStreamDestroy_v2", (int) cuStreamDestroy.invokeExact(stream));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuStreamDestroy_v2", t);
        }
    }

    MemorySegment eventCreate() {
        try {
            check("cuEventCreate", (int) cuEventCreate.invokeExact(out8, CU_EVENT_DEFAULT));
            return out8.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuEventCreate", t);
        }
    }

    void eventRecord(MemorySegment event, MemorySegment stream) {
        try {
            check("cuEventRecord", (int) cuEventRecord.invokeExact(event, stream));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuEventRecord", t);
        }
    }

    /** Milliseconds between two recorded events, after waiting for the later one. */
    float eventElapsedMillis(MemorySegment start, MemorySegment end) {
        try {
            check("cuEventSynchronize", (int) cuEventSynchronize.invokeExact(end));
            check("cuEventElapsedTime", (int) cuEventElapsedTime.invokeExact(out8, start, end));
            return out8.get(JAVA_FLOAT, 0);
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuEventElapsedTime", t);
        }
    }

    void eventDestroy(MemorySegment event) {
        try {
            check("cuEventDestroy_v2", (int) cuEventDestroy.invokeExact(event));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuEventDestroy_v2", t);
        }
    }

    // ---------------------------------------------------------------- modules and launches

    /** Loads a cubin or a NUL-terminated PTX image held in {@code image} (host memory). */
    MemorySegment moduleLoadData(MemorySegment image) {
        try {
            check("cuModuleLoadData", (int) cuModuleLoadData.invokeExact(out8, image));
            return out8.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuModuleLoadData", t);
        }
    }

    void moduleUnload(MemorySegment module) {
        try {
            check("cuModuleUnload", (int) cuModuleUnload.invokeExact(module));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuModuleUnload", t);
        }
    }

    MemorySegment moduleGetFunction(MemorySegment module, String name) {
        try (Arena a = Arena.ofConfined()) {
            check("cuModuleGetFunction(" + name + ")", (int) cuModuleGetFunction.invokeExact(out8, module, a.allocateFrom(name)));
            return out8.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuModuleGetFunction", t);
        }
    }

    /**
     * Launches {@code function} on a 1-D grid. Each argument is written into its own 8-byte slot
     * and {@code kernelParams[i]} points at slot i, as cuLaunchKernel expects (it copies the values
     * before returning, so the slots may be reused by the next launch).
     */
    void launch(String name, MemorySegment function, int grid, int block, MemorySegment stream, KernelArgs args) {
        args.writeTo(argValues, argPointers);
        try {
            check("cuLaunchKernel(" + name + ", grid " + grid + ", block " + block + ")",
                    (int) cuLaunchKernel.invokeExact(function, grid, 1, 1, block, 1, 1, 0, stream, argPointers,
                            MemorySegment.NULL));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("cuLaunchKernel", t);
        }
    }
}
