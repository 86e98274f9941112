package dev.advinterp.engine.backend;

import dev.advinterp.engine.Device;
import dev.advinterp.engine.DeviceMemory;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Shape;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.cpu.CpuBackend;
import dev.advinterp.engine.memory.HostMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The checks every backend call makes ({@link BackendCall}), run on CPU tensors (sizes do not
 * depend on the device) so that they are exercised on a machine without a GPU; the sizes as a
 * family of native kernels sees them.
 */
class BackendChecksTest {
    private Scope scope;

    @BeforeEach
    void open() {
        scope = Scope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    private static Tensor t(int... dims) {
        return Tensor.empty(CpuBackend.instance(), Shape.of(dims), "test");
    }

    /** A call of op as a backend whose kernels are native code sees it. */
    private static BackendCall call(String op) {
        return new BackendCall(CpuBackend.instance(), op, null);
    }

    private static void throwsNaming(Runnable r, String... words) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        for (String w : words) assertTrue(e.getMessage().contains(w), e.getMessage() + " should name " + w);
    }

    /** Host memory that says it is a GPU's: what a CUDA tensor looks like to the CPU backend. */
    private static final DeviceMemory ELSEWHERE = new DeviceMemory() {
        @Override
        public Device device() {
            return Device.CUDA;
        }

        @Override
        public String describe() {
            return "another device";
        }

        @Override
        public MemorySegment allocate(long bytes) {
            return HostMemory.INSTANCE.allocate(bytes);
        }

        @Override
        public void free(MemorySegment segment) {
            HostMemory.INSTANCE.free(segment);
        }

        @Override
        public void writeFloats(float[] src, int srcOffset, MemorySegment dst, long dstByte, int count) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void readFloats(MemorySegment src, long srcByte, float[] dst, int dstOffset, int count) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void copyBytes(MemorySegment src, long srcByte, MemorySegment dst, long dstByte, long bytes) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void fillFloats(MemorySegment dst, long count, float value) {
            throw new UnsupportedOperationException();
        }
    };

    @Test
    void aTensorOfAnotherDeviceIsRefusedWithTheOpAndItsShape() {
        Tensor x = Tensor.empty(ELSEWHERE, Shape.of(2, 3), "elsewhere");
        throwsNaming(() -> call("conv2dForward").on("input", x), "conv2dForward", "input", "[2, 3]", "CUDA", "another device");
        throwsNaming(() -> call("fill").on("tensor", null), "fill", "null");
        assertDoesNotThrow(() -> call("channelAffine").optional("shift", null));
        // through the backend's own entry, before any kernel runs
        throwsNaming(() -> CpuBackend.instance().reluForward(x, t(2, 3)), "reluForward", "x", "[2, 3]", "CUDA");
        throwsNaming(() -> CpuBackend.instance().fill(x, 1f), "fill", "[2, 3]", "CUDA");
    }

    @Test
    void aClosedTensorIsRefusedBeforeAnyKernel() {
        Tensor x = t(2, 2);
        x.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> CpuBackend.instance().sum(x));
        assertTrue(e.getMessage().contains("sum") && e.getMessage().contains("[2, 2]") && e.getMessage().contains("closed"), e.getMessage());
    }

    @Test
    void gemmMatricesMustFitTheirTensors() {
        Tensor a = t(3, 4);
        assertDoesNotThrow(() -> call("gemm").matrix("A", a, 0, 3, 4, 4));
        throwsNaming(() -> call("gemm").matrix("A", a, 1, 3, 4, 4), "matrix A", "offset 1");
        throwsNaming(() -> call("gemm").matrix("A", a, 0, 3, 4, 3), "ld 3");
        throwsNaming(() -> call("gemm").matrix("B", a, Long.MAX_VALUE, 1, 1, 1), "matrix B");
        throwsNaming(() -> call("gemm").gemm(false, false, 0, 5, 4, a, 0, 4, a, 0, 5, a, 0, 5), "m=0");
    }

    @Test
    void convolutionShapesMustMatchTheGeometry() {
        ConvGeometry g = new ConvGeometry(2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1);
        Tensor x = t(2, 3, 8, 8), w = t(4, 3, 3, 3), y = t(2, 4, 8, 8), bias = t(4);
        assertDoesNotThrow(() -> call("conv2dForward").conv(g, x, w, bias, y));
        throwsNaming(() -> call("conv2dForward").conv(g, x, w, bias, t(2, 4, 7, 7)), "conv2dForward", "output", "[2, 4, 7, 7]");
        throwsNaming(() -> call("conv2dForward").conv(g, x, t(4, 3, 5, 5), null, y), "weight");
        throwsNaming(() -> call("conv2dForward").conv(g, x, w, t(3), y), "bias");
        ConvGeometry tooBig = new ConvGeometry(2, 3, 2, 2, 4, 5, 5, 1, 1, 0, 0);
        throwsNaming(() -> call("conv2dBackwardData").conv(tooBig, x, w, null, y), "conv2dBackwardData", "invalid geometry");
    }

    @Test
    void poolingGeometryMustSuitCudnn() {
        PoolGeometry g = new PoolGeometry(1, 2, 6, 6, 2, 2, 2, 2, 0, 0);
        assertDoesNotThrow(() -> call("maxPool2dForward").pool(g, t(1, 2, 6, 6), t(1, 2, 3, 3)));
        throwsNaming(() -> call("maxPool2dForward").pool(g, t(1, 2, 6, 6), t(1, 2, 2, 2)), "output");
        PoolGeometry padTooLarge = new PoolGeometry(1, 2, 6, 6, 2, 2, 2, 2, 2, 2);
        throwsNaming(() -> call("avgPool2dForward").pool(padTooLarge, t(1, 2, 6, 6), t(1, 2, 5, 5)), "invalid geometry");
    }

    @Test
    void labelsBoundsAndHostRangesAreChecked() {
        throwsNaming(() -> call("softmaxCrossEntropy").labels(new int[]{0, 10}, 2, 10), "label 10", "row 1");
        throwsNaming(() -> call("softmaxCrossEntropy").labels(new int[]{0}, 2, 10), "1 labels", "2 rows");
        throwsNaming(() -> call("fgsmStep").bounds(new float[]{0, 0}, new float[]{1, 1}, 3), "per channel (3)");
        throwsNaming(() -> call("fgsmStep").bounds(new float[]{0}, new float[]{1, 1}, 1), "fgsmStep");
        assertDoesNotThrow(() -> call("fgsmStep").bounds(new float[]{0}, new float[]{1}, 3));
        throwsNaming(() -> call("copyFromHost").hostRange(10, 4, 7), "7 values", "offset 4");
        throwsNaming(() -> call("batchNormTrainForward").batchNorm(t(2, 3, 4, 4), t(3), t(4)), "has 4 elements, expected 3");
        throwsNaming(() -> call("addBias").planes("y", t(2, 3, 4), 2, 3, 5), "y", "expected 30");
    }
}
