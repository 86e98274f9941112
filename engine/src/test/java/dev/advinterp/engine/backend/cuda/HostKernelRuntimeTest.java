package dev.advinterp.engine.backend.cuda;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The harness that runs the CUDA kernels on the CPU reports what it cannot run instead of guessing. */
class HostKernelRuntimeTest {

    @BeforeAll
    static void needsCompiler() {
        assumeTrue(HostKernelRuntime.unavailableReason().isEmpty(), () -> HostKernelRuntime.unavailableReason().orElse(""));
    }

    @Test
    void everyKernelTheBackendLaunchesIsInTheHarness() {
        HostKernelRuntime rt = HostKernelRuntime.open(1 << 20);
        for (Kernel k : KernelTable.ALL) assertTrue(rt.has(k.name()), k.name());
        assertFalse(rt.has("no_such_kernel"));
    }

    @Test
    void unknownKernelAndOversizedBlockAreErrors() {
        HostKernelRuntime rt = HostKernelRuntime.open(1 << 20);
        long x = rt.malloc(64);
        KernelArgs args = new KernelArgs().reset().ptr(x).f32(1f).i64(16);
        CudaException unknown = assertThrows(CudaException.class, () -> rt.launch("no_such_kernel", 1, 256, args));
        assertEquals(1, unknown.status());
        CudaException block = assertThrows(CudaException.class, () -> rt.launch("fill_f32", 1, 512, args));
        assertEquals(2, block.status());
        assertTrue(block.getMessage().contains("512"), block.getMessage());
        rt.free(x);
    }

    /** A pointer argument outside every allocated block fails before the kernel runs (on a GPU it would fault). */
    @Test
    void pointerOutsideTheAllocationsIsRefused() {
        HostKernelRuntime rt = HostKernelRuntime.open(1 << 20);
        long x = rt.malloc(64);
        KernelArgs args = new KernelArgs().reset().ptr(x + (1 << 16)).f32(1f).i64(16);
        assertThrows(IllegalStateException.class, () -> rt.launch("fill_f32", 1, 256, args));
        rt.free(x);
        assertEquals(0, rt.liveBlocks());
    }

    /** The kernel runs over the packed arguments: fill of 1000 floats, 4 blocks of 256 threads. */
    @Test
    void launchRunsTheKernelOverTheWholeGrid() {
        HostKernelRuntime rt = HostKernelRuntime.open(1 << 20);
        long x = rt.malloc(4000);
        fill(rt, x, 2.5f, 1000);
        float[] got = new float[1000];
        rt.copyToHost(java.lang.foreign.MemorySegment.ofArray(got), x, 4000);
        for (float v : got) assertEquals(2.5f, v);
        assertEquals(1, rt.launches());
        rt.free(x);
    }

    /** A launch that writes past the end of a block fails, though its pointer starts inside one. */
    @Test
    void writingPastTheEndOfABlockFailsTheLaunch() {
        HostKernelRuntime rt = HostKernelRuntime.open(1 << 20);
        long x = rt.malloc(64);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> fill(rt, x, 1f, 20)); // 80 bytes into a 64-byte block
        assertTrue(e.getMessage().contains("fill_f32") && e.getMessage().contains("past the end"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> rt.free(x), "the free reports it too");
        assertEquals(0, rt.liveBlocks(), "and releases the block");
    }

    /** fill_f32 as the backend would launch it. */
    private static void fill(HostKernelRuntime rt, long x, float v, long n) {
        KernelLauncher k = new KernelLauncher(rt::launch);
        k.launch(CudaElementwise.FILL, n, k.args().ptr(x).f32(v).i64(n));
    }
}
