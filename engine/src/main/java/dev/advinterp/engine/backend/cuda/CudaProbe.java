package dev.advinterp.engine.backend.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * Asks the CUDA driver, if one is installed, which GPUs it sees. It only reads: cuInit,
 * cuDriverGetVersion, cuDeviceGetCount, cuDeviceGetName, cuDeviceTotalMem_v2. A machine without a
 * driver or GPU is a normal answer, reported in words.
 */
public final class CudaProbe {

    /** One visible GPU. */
    public record Gpu(int ordinal, String name, long totalBytes) {
    }

    /**
     * The probe's answer: whether the driver library loaded, its version (e.g. 13000 for 13.0),
     * the GPUs, and a sentence for people.
     */
    public record Result(boolean driverLoaded, int driverVersion, List<Gpu> gpus, String summary) {
        public boolean available() {
            return !gpus.isEmpty();
        }
    }

    private CudaProbe() {
    }

    public static Result probe() {
        SymbolLookup lib;
        try {
            lib = SymbolLookup.libraryLookup("libcuda.so.1", Arena.global());
        } catch (IllegalArgumentException e) {
            return new Result(false, 0, List.of(), "no CUDA driver (libcuda.so.1 not found): CPU only");
        }
        Linker linker = Linker.nativeLinker();
        try (Arena arena = Arena.ofConfined()) {
            MethodHandle init = linker.downcallHandle(lib.find("cuInit").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            int rc = (int) init.invokeExact(0);
            MethodHandle version = linker.downcallHandle(lib.find("cuDriverGetVersion").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
            MemorySegment v = arena.allocate(ValueLayout.JAVA_INT);
            int vrc = (int) version.invokeExact(v);
            int driverVersion = vrc == 0 ? v.get(ValueLayout.JAVA_INT, 0) : 0;
            if (rc != 0) {
                return new Result(true, driverVersion, List.of(),
                        "CUDA driver found but cuInit failed with error " + rc + " (no usable GPU): CPU only");
            }
            MethodHandle count = linker.downcallHandle(lib.find("cuDeviceGetCount").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
            MemorySegment n = arena.allocate(ValueLayout.JAVA_INT);
            rc = (int) count.invokeExact(n);
            int devices = rc == 0 ? n.get(ValueLayout.JAVA_INT, 0) : 0;
            MethodHandle get = linker.downcallHandle(lib.find("cuDeviceGet").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            MethodHandle name = linker.downcallHandle(lib.find("cuDeviceGetName").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            MethodHandle mem = linker.downcallHandle(lib.find("cuDeviceTotalMem_v2").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            List<Gpu> gpus = new ArrayList<>();
            for (int i = 0; i < devices; i++) {
                MemorySegment dev = arena.allocate(ValueLayout.JAVA_INT);
                if ((int) get.invokeExact(dev, i) != 0) continue;
                int d = dev.get(ValueLayout.JAVA_INT, 0);
                MemorySegment buf = arena.allocate(256);
                String nm = (int) name.invokeExact(buf, 256, d) == 0 ? buf.getString(0) : "?";
                MemorySegment bytes = arena.allocate(ValueLayout.JAVA_LONG);
                long total = (int) mem.invokeExact(bytes, d) == 0 ? bytes.get(ValueLayout.JAVA_LONG, 0) : -1;
                gpus.add(new Gpu(i, nm, total));
            }
            String summary = gpus.isEmpty()
                    ? "CUDA driver " + format(driverVersion) + " found, no GPU visible: CPU only"
                    : "CUDA driver " + format(driverVersion) + ", " + gpus.size() + " GPU(s)";
            return new Result(true, driverVersion, List.copyOf(gpus), summary);
        } catch (Throwable t) {
            return new Result(true, 0, List.of(), "CUDA driver found but could not be queried (" + t + "): CPU only");
        }
    }

    private static String format(int v) {
        return v <= 0 ? "?" : (v / 1000) + "." + (v % 1000) / 10;
    }
}
