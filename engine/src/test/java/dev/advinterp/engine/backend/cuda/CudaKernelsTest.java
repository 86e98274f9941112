package dev.advinterp.engine.backend.cuda;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The kernel launches as the driver would receive them, recorded instead of run. */
class CudaKernelsTest {

    record Launch(String kernel, int grid, int block, KernelArgs.Kind[] kinds, long[] bits) {
    }

    private final List<Launch> launches = new ArrayList<>();
    private final CudaKernels kernels = new CudaKernels((kernel, grid, block, args) -> {
        long[] bits = new long[args.count()];
        for (int i = 0; i < bits.length; i++) bits[i] = args.bits(i);
        launches.add(new Launch(kernel, grid, block, args.signature(), bits));
    });

    private Launch only() {
        assertEquals(1, launches.size(), launches.toString());
        return launches.removeFirst();
    }

    @Test
    void elementwiseGridIsCeilOfNOver256CappedAt4096() {
        assertEquals(1, CudaKernels.elementwiseGrid(1));
        assertEquals(1, CudaKernels.elementwiseGrid(256));
        assertEquals(2, CudaKernels.elementwiseGrid(257));
        assertEquals(4096, CudaKernels.elementwiseGrid(4096L * 256));
        assertEquals(4096, CudaKernels.elementwiseGrid(1L << 40));
    }

    @Test
    void argumentsTravelInTheContractOrderWithTheirBits() {
        kernels.axpby(2f, 0x1000, -3f, 0x2000, 0x3000, 1000);
        Launch l = only();
        assertEquals("axpby_f32", l.kernel());
        assertEquals(4, l.grid());
        assertEquals(256, l.block());
        assertArrayEquals(new long[]{Float.floatToRawIntBits(2f), 0x1000, Float.floatToRawIntBits(-3f), 0x2000, 0x3000, 1000},
                l.bits());

        kernels.dropoutForward(0x10, 0x20, 0.25f, -7L, 5);
        l = only();
        // the seed's 64 bits go through unchanged (unsigned long long on the device)
        assertEquals(-7L, l.bits()[3]);
    }

    @Test
    void fixedGridReductionsAndPerRowKernels() {
        kernels.sumPartials(0x10, 0x20, 10);
        assertEquals(CudaKernels.REDUCTION_BLOCKS, only().grid());
        kernels.featureMatching(0x10, 0x20, 0, 0, 0x30, 0.5f, 3);
        assertEquals(256, only().grid());
        kernels.sumFinish(0x20, 256, 0x40);
        assertEquals(1, only().grid());
        kernels.softmaxCrossEntropy(0x10, 0x20, 0, 0x30, 37, 10, 1f / 37);
        assertEquals(37, only().grid());
        kernels.argmaxRows(0x10, 0x20, 9, 1000);
        assertEquals(9, only().grid());
        kernels.sumBias(0x10, 0x20, 4, 64, 49);
        assertEquals(64, only().grid());
        kernels.bnInferenceBackwardParams(1, 2, 3, 4, 1e-5f, 5, 0, 2, 16, 9);
        assertEquals(16, only().grid());
    }

    @Test
    void fgsmMovesFourFloatsPerThread() {
        kernels.fgsmStep(1, 2, 3, 4, 5, 0.1f, 0.3f, 3, 1024, true, 4097);
        Launch l = only();
        assertEquals(CudaKernels.elementwiseGrid(1025), l.grid());
        assertEquals(1, l.bits()[9]); // perChannel
    }

    @Test
    void adaptivePoolingGridsCoverOutputForwardAndInputBackward() {
        kernels.adaptiveAvgPoolForward(1, 2, 10, 13, 13, 6, 6);
        assertEquals(CudaKernels.elementwiseGrid(10 * 36), only().grid());
        kernels.adaptiveAvgPoolBackward(1, 2, 10, 13, 13, 6, 6);
        assertEquals(CudaKernels.elementwiseGrid(10 * 169), only().grid());
    }

    @Test
    void emptyElementwiseWorkLaunchesNothing() {
        kernels.fill(0x10, 1f, 0);
        kernels.reluForward(1, 2, 0);
        assertTrue(launches.isEmpty());
    }

    /** Every kernel of the contract's table is reachable through a typed method, and each launch matches its signature. */
    @Test
    void everyKernelIsLaunchedWithItsDeclaredSignature() {
        kernels.fill(1, 0f, 1);
        kernels.axpby(1f, 1, 1f, 2, 3, 1);
        kernels.scale(1, 2f, 3, 1);
        kernels.addBias(1, 2, 1, 1, 1);
        kernels.channelAffine(1, 2, 0, 4, 1, 1, 1);
        kernels.reluForward(1, 2, 1);
        kernels.reluBackward(1, 2, 3, 1);
        kernels.dropoutForward(1, 2, 0.5f, 1, 1);
        kernels.dropoutBackward(1, 2, 0.5f, 1, 1);
        kernels.sumPartials(1, 2, 1);
        kernels.sumFinish(1, 256, 2);
        kernels.sumBias(1, 2, 1, 1, 1);
        kernels.adaptiveAvgPoolForward(1, 2, 1, 2, 2, 1, 1);
        kernels.adaptiveAvgPoolBackward(1, 2, 1, 2, 2, 1, 1);
        kernels.bnInferenceBackwardData(1, 2, 3, 1e-5f, 4, 1, 1, 1);
        kernels.bnInferenceBackwardParams(1, 2, 3, 4, 1e-5f, 5, 6, 1, 1, 1);
        kernels.fgsmStep(1, 2, 3, 4, 5, 0.1f, 0.1f, 1, 1, false, 1);
        kernels.featureMatching(1, 2, 3, 4, 5, 1f, 1);
        kernels.softmaxCrossEntropy(1, 2, 3, 4, 1, 2, 1f);
        kernels.sgdMomentum(1, 2, 0, 0.1f, 0f, 0f, 0f, false, 1);
        kernels.argmaxRows(1, 2, 1, 2);
        Set<String> launched = new LinkedHashSet<>();
        for (Launch l : launches) {
            launched.add(l.kernel());
            assertArrayEquals(CudaKernels.SIGNATURES.get(l.kernel()), l.kinds(), l.kernel());
            assertEquals(CudaKernels.BLOCK, l.block());
        }
        assertEquals(CudaKernels.SIGNATURES.keySet(), launched);
    }
}
