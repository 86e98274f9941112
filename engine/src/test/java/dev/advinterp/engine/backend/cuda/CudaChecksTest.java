package dev.advinterp.engine.backend.cuda;

import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Shape;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.ConvGeometry;
import dev.advinterp.engine.backend.PoolGeometry;
import dev.advinterp.engine.backend.cpu.CpuBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The checks the CUDA backend makes before any native call, run on CPU tensors (sizes do not
 * depend on the device) so that they are exercised on a machine without a GPU.
 */
class CudaChecksTest {
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

    private static void throwsNaming(Runnable r, String... words) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        for (String w : words) assertTrue(e.getMessage().contains(w), e.getMessage() + " should name " + w);
    }

    @Test
    void aCpuTensorIsRefusedWithTheOpAndItsShape() {
        Tensor x = t(2, 3);
        throwsNaming(() -> CudaChecks.onDevice("conv2dForward", "input", x, CpuBackend.instance(), false),
                "conv2dForward", "input", "[2, 3]", "CPU");
        throwsNaming(() -> CudaChecks.onDevice("fill", "tensor", null, CpuBackend.instance(), false), "fill", "null");
        assertDoesNotThrow(() -> CudaChecks.onDevice("channelAffine", "shift", null, CpuBackend.instance(), true));
    }

    @Test
    void gemmMatricesMustFitTheirTensors() {
        Tensor a = t(3, 4);
        assertDoesNotThrow(() -> CudaChecks.gemmMatrix("A", a, 0, 3, 4, 4));
        throwsNaming(() -> CudaChecks.gemmMatrix("A", a, 1, 3, 4, 4), "matrix A", "offset 1");
        throwsNaming(() -> CudaChecks.gemmMatrix("A", a, 0, 3, 4, 3), "ld 3");
        throwsNaming(() -> CudaChecks.gemmMatrix("B", a, Long.MAX_VALUE, 1, 1, 1), "matrix B");
        throwsNaming(() -> CudaChecks.gemmSizes(0, 5, 4, a, a, a), "m=0");
    }

    @Test
    void convolutionShapesMustMatchTheGeometry() {
        ConvGeometry g = new ConvGeometry(2, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1);
        Tensor x = t(2, 3, 8, 8), w = t(4, 3, 3, 3), y = t(2, 4, 8, 8), bias = t(4);
        assertDoesNotThrow(() -> CudaChecks.conv("conv2dForward", g, x, w, bias, y));
        throwsNaming(() -> CudaChecks.conv("conv2dForward", g, x, w, bias, t(2, 4, 7, 7)), "conv2dForward", "output", "[2, 4, 7, 7]");
        throwsNaming(() -> CudaChecks.conv("conv2dForward", g, x, t(4, 3, 5, 5), null, y), "weight");
        throwsNaming(() -> CudaChecks.conv("conv2dForward", g, x, w, t(3), y), "bias");
        ConvGeometry tooBig = new ConvGeometry(2, 3, 2, 2, 4, 5, 5, 1, 1, 0, 0);
        throwsNaming(() -> CudaChecks.conv("conv2dBackwardData", tooBig, x, w, null, y), "conv2dBackwardData", "invalid geometry");
    }

    @Test
    void poolingGeometryMustSuitCudnn() {
        PoolGeometry g = new PoolGeometry(1, 2, 6, 6, 2, 2, 2, 2, 0, 0);
        assertDoesNotThrow(() -> CudaChecks.pool("maxPool2dForward", g, t(1, 2, 6, 6), t(1, 2, 3, 3)));
        throwsNaming(() -> CudaChecks.pool("maxPool2dForward", g, t(1, 2, 6, 6), t(1, 2, 2, 2)), "output");
        PoolGeometry padTooLarge = new PoolGeometry(1, 2, 6, 6, 2, 2, 2, 2, 2, 2);
        throwsNaming(() -> CudaChecks.pool("avgPool2dForward", padTooLarge, t(1, 2, 6, 6), t(1, 2, 5, 5)), "invalid geometry");
    }

    @Test
    void labelsBoundsAndHostRangesAreChecked() {
        throwsNaming(() -> CudaChecks.labels("softmaxCrossEntropy", new int[]{0, 10}, 2, 10), "label 10", "row 1");
        throwsNaming(() -> CudaChecks.labels("softmaxCrossEntropy", new int[]{0}, 2, 10), "1 labels", "2 rows");
        throwsNaming(() -> CudaChecks.bounds("fgsmStep", new float[]{0, 0}, new float[]{1, 1}, 3), "per channel (3)");
        throwsNaming(() -> CudaChecks.bounds("fgsmStep", new float[]{0}, new float[]{1, 1}, 1), "fgsmStep");
        assertDoesNotThrow(() -> CudaChecks.bounds("fgsmStep", new float[]{0}, new float[]{1}, 3));
        throwsNaming(() -> CudaChecks.hostRange("copyFromHost", 10, 4, 7), "7 values", "offset 4");
        throwsNaming(() -> CudaChecks.batchNorm("batchNormTrainForward", t(2, 3, 4, 4), t(3), t(4)), "has 4 elements, expected 3");
        throwsNaming(() -> CudaChecks.planes("addBias", "y", t(2, 3, 4), 2, 3, 5), "y", "expected 30");
    }
}
