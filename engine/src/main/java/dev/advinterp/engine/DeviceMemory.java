package dev.advinterp.engine;

import java.lang.foreign.MemorySegment;

/**
 * The memory of one device as tensors use it: their storage is allocated and freed here, and
 * their values travel between it and the Java heap through it. A {@code Backend} is the device
 * memory of its device together with the kernels that compute on it; {@code HostMemory} is the
 * host's, which tensors use before any backend is chosen. A {@link Scope} names the device memory
 * its tensors are made in.
 *
 * <p>The segments given to these methods are ones this memory allocated (tensor storage), and
 * the ranges lie inside them: {@link Tensor} and {@link Storage} check that before calling, so
 * the methods themselves do not. On a GPU a segment's address is the device pointer; Java never
 * reads through it.
 */
public interface DeviceMemory {

    /** The kind of device. */
    Device device();

    /** One line: the device and the libraries behind it. */
    String describe();

    /**
     * The memory tensors record as their home. Memories that share one address space answer the
     * same object (the CPU backend answers the host's memory), so that two tensors live on the same
     * device exactly when their homes are the same object.
     */
    default DeviceMemory home() {
        return this;
    }

    MemorySegment allocate(long bytes);

    void free(MemorySegment segment);

    /** {@code count} floats of {@code src} from {@code srcOffset} to {@code dst} from byte {@code dstByte}. */
    void writeFloats(float[] src, int srcOffset, MemorySegment dst, long dstByte, int count);

    /** {@code count} floats of {@code src} from byte {@code srcByte} to {@code dst} from {@code dstOffset}. */
    void readFloats(MemorySegment src, long srcByte, float[] dst, int dstOffset, int count);

    /** {@code bytes} bytes from {@code src} at {@code srcByte} to {@code dst} at {@code dstByte} (the ranges may overlap). */
    void copyBytes(MemorySegment src, long srcByte, MemorySegment dst, long dstByte, long bytes);

    /** The first {@code count} floats of {@code dst} set to {@code value}. */
    void fillFloats(MemorySegment dst, long count, float value);
}
