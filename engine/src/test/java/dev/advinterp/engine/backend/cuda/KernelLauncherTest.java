package dev.advinterp.engine.backend.cuda;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The kernel launches as the driver would receive them, from the declarations, recorded instead of run. */
class KernelLauncherTest {

    record Launch(String kernel, int grid, int block, KernelArgs.Kind[] kinds, long[] bits) {
    }

    private final List<Launch> launches = new ArrayList<>();
    private final KernelLauncher k = new KernelLauncher((kernel, grid, block, args) -> {
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
        assertEquals(1, KernelLauncher.elementwiseGrid(1));
        assertEquals(1, KernelLauncher.elementwiseGrid(256));
        assertEquals(2, KernelLauncher.elementwiseGrid(257));
        assertEquals(4096, KernelLauncher.elementwiseGrid(4096L * 256));
        assertEquals(4096, KernelLauncher.elementwiseGrid(1L << 40));
    }

    @Test
    void argumentsTravelInTheDeclaredOrderWithTheirBits() {
        k.launch(CudaElementwise.AXPBY, 1000, k.args().f32(2f).ptr(0x1000).f32(-3f).ptr(0x2000).ptr(0x3000).i64(1000));
        Launch l = only();
        assertEquals("axpby_f32", l.kernel());
        assertEquals(4, l.grid());
        assertEquals(256, l.block());
        assertArrayEquals(new long[]{Float.floatToRawIntBits(2f), 0x1000, Float.floatToRawIntBits(-3f), 0x2000, 0x3000, 1000},
                l.bits());

        k.launch(CudaElementwise.DROPOUT_FORWARD, 5, k.args().ptr(0x10).ptr(0x20).f32(0.25f).i64(-7L).i64(5));
        l = only();
        // the seed's 64 bits go through unchanged (unsigned long long on the device)
        assertEquals(-7L, l.bits()[3]);
    }

    @Test
    void fixedGridReductionsAndPerRowKernels() {
        k.launch(CudaReductions.SUM_PARTIALS, k.args().ptr(0x10).ptr(0x20).i64(10));
        assertEquals(KernelLauncher.REDUCTION_BLOCKS, only().grid());
        k.launch(CudaFused.FEATURE_MATCHING, k.args().ptr(0x10).ptr(0x20).ptr(0).ptr(0).ptr(0x30).f32(0.5f).i64(3));
        assertEquals(256, only().grid());
        k.launch(CudaReductions.SUM_FINISH, k.args().ptr(0x20).i32(256).ptr(0x40));
        assertEquals(1, only().grid());
        k.launch(CudaFused.SOFTMAX_XENT, k.args().ptr(0x10).ptr(0x20).ptr(0).ptr(0x30).i32(37).i32(10).f32(1f / 37));
        assertEquals(37, only().grid());
        k.launch(CudaReductions.ARGMAX_ROWS, k.args().ptr(0x10).ptr(0x20).i32(9).i32(1000));
        assertEquals(9, only().grid());
        k.launch(CudaElementwise.SUM_BIAS, k.args().ptr(0x10).ptr(0x20).i32(4).i32(64).i32(49));
        assertEquals(64, only().grid());
        k.launch(CudaBatchNorm.INFERENCE_BACKWARD_PARAMS, k.args().ptr(1).ptr(2).ptr(3).ptr(4).f32(1e-5f).ptr(5).ptr(0).i32(2).i32(16)
                .i32(9));
        assertEquals(16, only().grid());
    }

    @Test
    void fgsmMovesFourFloatsPerThread() {
        k.launch(CudaFused.FGSM_STEP, 4097, k.args().ptr(1).ptr(2).ptr(3).ptr(4).ptr(5).f32(0.1f).f32(0.3f).i32(3).i32(1024).i32(1)
                .i64(4097));
        Launch l = only();
        assertEquals(KernelLauncher.elementwiseGrid(1025), l.grid());
        assertEquals(1, l.bits()[9]); // perChannel
    }

    @Test
    void adaptivePoolingGridsCoverOutputForwardAndInputBackward() {
        k.launch(CudaPooling.ADAPTIVE_AVG_POOL_FORWARD, 10 * 36, k.args().ptr(1).ptr(2).i32(10).i32(13).i32(13).i32(6).i32(6));
        assertEquals(KernelLauncher.elementwiseGrid(10 * 36), only().grid());
        k.launch(CudaPooling.ADAPTIVE_AVG_POOL_BACKWARD, 10 * 169, k.args().ptr(1).ptr(2).i32(10).i32(13).i32(13).i32(6).i32(6));
        assertEquals(KernelLauncher.elementwiseGrid(10 * 169), only().grid());
    }

    @Test
    void emptyWorkLaunchesNothing() {
        k.launch(CudaElementwise.FILL, 0, k.args().ptr(0x10).f32(1f).i64(0));
        k.launch(CudaElementwise.RELU_FORWARD, 0, k.args().ptr(1).ptr(2).i64(0));
        k.launch(CudaReductions.ARGMAX_ROWS, k.args().ptr(0x10).ptr(0x20).i32(0).i32(1000));
        assertTrue(launches.isEmpty());
    }

    /** Arguments that differ from the declaration, or a grid the kernel is not declared with, never reach the driver. */
    @Test
    void aLaunchThatDiffersFromItsDeclarationIsRefused() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> k.launch(CudaElementwise.RELU_FORWARD, 4, k.args().ptr(1).ptr(2).i32(4)));
        assertTrue(e.getMessage().contains("relu_forward_f32") && e.getMessage().contains("LONG"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> k.launch(CudaReductions.SUM_PARTIALS, 10, k.args().ptr(1).ptr(2).i64(10)));
        assertThrows(IllegalStateException.class, () -> k.launch(CudaElementwise.SCALE, k.args().ptr(1).f32(2f).ptr(3).i64(4)));
        assertTrue(launches.isEmpty());
    }

    /** Every declared kernel can be launched with arguments of its declared kinds, in blocks of 256 threads. */
    @Test
    void everyDeclaredKernelLaunchesWithItsDeclaredSignature() {
        for (Kernel kernel : KernelTable.ALL) {
            KernelArgs a = k.args();
            for (Kernel.Param p : kernel.params()) {
                switch (p.kind()) {
                    case POINTER -> a.ptr(0x100);
                    case INT -> a.i32(3);
                    case LONG -> a.i64(3);
                    case FLOAT -> a.f32(1f);
                    case DOUBLE -> a.f64(1.0);
                }
            }
            if (kernel.grid() instanceof Grid.GridStride) k.launch(kernel, 3, a);
            else k.launch(kernel, a);
            Launch l = only();
            assertEquals(kernel.name(), l.kernel());
            assertArrayEquals(kernel.kinds(), l.kinds());
            assertEquals(KernelLauncher.BLOCK, l.block());
        }
    }
}
