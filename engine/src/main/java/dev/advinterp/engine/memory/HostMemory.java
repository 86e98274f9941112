package dev.advinterp.engine.memory;

import dev.advinterp.engine.Device;
import dev.advinterp.engine.DeviceMemory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The host's memory for tensors ({@link NativeMemory}): the device of the root scope until a
 * program chooses another, and the memory the CPU backend computes on. There is one host, so
 * there is one instance.
 */
public final class HostMemory implements DeviceMemory {
    public static final HostMemory INSTANCE = new HostMemory();

    private HostMemory() {
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public String describe() {
        return "host memory";
    }

    @Override
    public MemorySegment allocate(long bytes) {
        return NativeMemory.allocate(bytes);
    }

    @Override
    public void free(MemorySegment segment) {
        NativeMemory.free(segment);
    }

    @Override
    public void writeFloats(float[] src, int srcOffset, MemorySegment dst, long dstByte, int count) {
        MemorySegment.copy(src, srcOffset, dst, ValueLayout.JAVA_FLOAT, dstByte, count);
    }

    @Override
    public void readFloats(MemorySegment src, long srcByte, float[] dst, int dstOffset, int count) {
        MemorySegment.copy(src, ValueLayout.JAVA_FLOAT, srcByte, dst, dstOffset, count);
    }

    @Override
    public void copyBytes(MemorySegment src, long srcByte, MemorySegment dst, long dstByte, long bytes) {
        MemorySegment.copy(src, srcByte, dst, dstByte, bytes);
    }

    /** Zero of either sign is written as +0 (a byte fill), as the CPU backend always has. */
    @Override
    public void fillFloats(MemorySegment dst, long count, float value) {
        if (value == 0f) {
            dst.asSlice(0, count * Float.BYTES).fill((byte) 0);
            return;
        }
        for (long i = 0; i < count; i++) dst.setAtIndex(ValueLayout.JAVA_FLOAT, i, value);
    }
}
