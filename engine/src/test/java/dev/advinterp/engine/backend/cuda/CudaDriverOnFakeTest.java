package dev.advinterp.engine.backend.cuda;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The driver bindings against kernels/src/test/host/fake_driver.cpp, a libcuda.so.1 compiled
 * against cuda.h: values arrive in the right places, out-parameters come back, and errors carry
 * the driver's names.
 */
class CudaDriverOnFakeTest {
    private static CudaDriver driver;
    private static MemorySegment ctx;

    @BeforeAll
    static void load() {
        assumeTrue(FakeCudaDriver.unavailableReason().isEmpty(), () -> FakeCudaDriver.unavailableReason().orElse(""));
        driver = FakeCudaDriver.driver();
        driver.init();
        ctx = driver.retainPrimaryContext(driver.device(0));
        driver.setCurrent(ctx);
    }

    @AfterAll
    static void release() {
        if (driver != null) driver.releasePrimaryContext(0);
    }

    @Test
    void deviceQueriesComeBackThroughTheirOutParameters() {
        assertEquals(13000, driver.driverVersion());
        assertEquals(9, driver.attribute(0, CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR));
        assertEquals(0, driver.attribute(0, CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR));
        assertEquals("host emulation (fake libcuda)", driver.deviceName(0));
        assertEquals(1L << 30, driver.deviceTotalMem(0));
        long[] info = driver.memGetInfo();
        assertEquals(1L << 30, info[1]);
        assertTrue(info[0] <= info[1]);
    }

    @Test
    void errorsCarryTheDriversNames() {
        CudaException e = assertThrows(CudaException.class, () -> driver.device(3));
        assertTrue(e.getMessage().contains("CUDA_ERROR_INVALID_DEVICE"), e.getMessage());
        CudaException free = assertThrows(CudaException.class, () -> driver.memFree(0x1000));
        assertTrue(free.getMessage().contains("cuMemFree_v2") && free.getMessage().contains("CUDA_ERROR_INVALID_VALUE"),
                free.getMessage());
    }

    @Test
    void outOfMemoryIsZeroNotAnException() {
        assertEquals(0L, driver.memAlloc(2L << 30));
    }

    /** Offsets and an odd size: a swapped or truncated argument would move the wrong bytes. */
    @Test
    void copiesAndFillMoveExactlyTheBytesAsked() {
        MemorySegment stream = driver.streamCreate(CudaDriver.CU_STREAM_NON_BLOCKING);
        long dev = driver.memAlloc(4096);
        MemorySegment host = driver.memAllocHost(4096);
        try {
            for (int i = 0; i < 1024; i++) host.setAtIndex(JAVA_FLOAT, i, i + 0.5f);
            driver.memcpyHtoDAsync(dev + 12, host.asSlice(40), 4 * 100, stream);
            driver.memsetD32Async(dev + 4 * 200, Float.floatToRawIntBits(-0.0f), 3, stream);
            driver.memcpyDtoDAsync(dev + 4 * 500, dev + 12, 4 * 100, stream);
            driver.streamSynchronize(stream);
            float[] back = new float[1024];
            MemorySegment out = MemorySegment.ofArray(back);
            driver.memcpyDtoHAsync(host, dev, 4096, stream);
            driver.streamSynchronize(stream);
            MemorySegment.copy(host, 0, out, 0, 4096);
            for (int i = 0; i < 100; i++) {
                assertEquals(10 + i + 0.5f, back[3 + i], "H→D at element " + (3 + i));
                assertEquals(10 + i + 0.5f, back[500 + i], "D→D at element " + (500 + i));
            }
            assertArrayEquals(new int[]{0x80000000, 0x80000000, 0x80000000},
                    new int[]{Float.floatToRawIntBits(back[200]), Float.floatToRawIntBits(back[201]), Float.floatToRawIntBits(back[202])});
            CudaException outside = assertThrows(CudaException.class, () -> driver.memcpyDtoDAsync(dev + 4000, dev, 200, stream));
            assertTrue(outside.getMessage().contains("CUDA_ERROR_INVALID_VALUE"), outside.getMessage());
        } finally {
            driver.memFree(dev);
            driver.memFreeHost(host);
            driver.streamDestroy(stream);
        }
    }

    @Test
    void moduleFunctionsAndLaunches() {
        MemorySegment module = KernelModule.load(driver, KernelModule.imageFor(9, 0));
        MemorySegment ptxModule = KernelModule.load(driver, KernelModule.imageFor(10, 0));
        long x = driver.memAlloc(4 * 300);
        MemorySegment host = driver.memAllocHost(1200);
        try {
            MemorySegment fill = driver.moduleGetFunction(module, "fill_f32");
            CudaException missing = assertThrows(CudaException.class, () -> driver.moduleGetFunction(module, "no_such_kernel"));
            assertTrue(missing.getMessage().contains("CUDA_ERROR_NOT_FOUND"), missing.getMessage());
            KernelArgs args = new KernelArgs().reset().ptr(x).f32(7.25f).i64(300);
            driver.launch("fill_f32", fill, 2, 256, MemorySegment.NULL, args);
            // the driver took the arguments at launch: changing them now must not change the queued kernel
            args.reset().ptr(x).f32(-1f).i64(1);
            CudaException tooWide = assertThrows(CudaException.class,
                    () -> driver.launch("fill_f32", fill, 1, 1024, MemorySegment.NULL, args));
            assertTrue(tooWide.getMessage().contains("CUDA_ERROR_INVALID_VALUE"), tooWide.getMessage());
            driver.memcpyDtoHAsync(host, x, 1200, MemorySegment.NULL);
            driver.streamSynchronize(MemorySegment.NULL);
            float[] back = new float[300];
            MemorySegment.copy(host, 0, MemorySegment.ofArray(back), 0, 1200);
            for (float v : back) assertEquals(7.25f, v);

            // a kernel that writes past the end of its block fails where the caller synchronises
            long small = driver.memAlloc(64);
            KernelArgs past = new KernelArgs().reset().ptr(small).f32(1f).i64(20); // 80 bytes into 64
            driver.launch("fill_f32", fill, 1, 256, MemorySegment.NULL, past);
            CudaException overrun = assertThrows(CudaException.class, () -> driver.streamSynchronize(MemorySegment.NULL));
            assertTrue(overrun.getMessage().contains("CUDA_ERROR_LAUNCH_FAILED") && overrun.getMessage().contains("past the end"),
                    overrun.getMessage());
            // the block is still released, with the fault reported
            CudaException atFree = assertThrows(CudaException.class, () -> driver.memFree(small));
            assertTrue(atFree.getMessage().contains("CUDA_ERROR_ILLEGAL_ADDRESS"), atFree.getMessage());

            MemorySegment e0 = driver.eventCreate(), e1 = driver.eventCreate();
            driver.eventRecord(e0, MemorySegment.NULL);
            driver.eventRecord(e1, MemorySegment.NULL);
            assertEquals(0f, driver.eventElapsedMillis(e0, e1));
            driver.eventDestroy(e0);
            driver.eventDestroy(e1);
        } finally {
            driver.memFree(x);
            driver.memFreeHost(host);
            driver.moduleUnload(module);
            driver.moduleUnload(ptxModule);
        }
    }

    /** Work queued on a stream runs when the caller synchronises, as on a GPU: a result read before is stale. */
    @Test
    void queuedWorkRunsAtTheSynchronisation() {
        MemorySegment stream = driver.streamCreate(CudaDriver.CU_STREAM_NON_BLOCKING);
        long dev = driver.memAlloc(16);
        MemorySegment host = driver.memAllocHost(16);
        try {
            host.fill((byte) 0);
            driver.memsetD32Async(dev, Float.floatToRawIntBits(3f), 4, stream);
            driver.memcpyDtoHAsync(host, dev, 16, stream);
            assertEquals(0f, host.getAtIndex(JAVA_FLOAT, 0), "read before synchronising");
            driver.streamSynchronize(stream);
            assertEquals(3f, host.getAtIndex(JAVA_FLOAT, 3), "read after synchronising");
            // a copy from pageable memory is staged at once, after the stream's queued work
            try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
                MemorySegment pageable = a.allocateFrom(JAVA_FLOAT, 1f, 2f, 3f, 4f);
                driver.memsetD32Async(dev, 0, 4, stream);
                driver.memcpyHtoDAsync(dev, pageable, 16, stream);
                assertEquals(0L, FakeCudaDriver.state().queuedOperations(), "the fill ran before the staged copy");
                driver.memcpyDtoHAsync(host, dev, 16, stream);
                driver.streamSynchronize(stream);
                assertEquals(4f, host.getAtIndex(JAVA_FLOAT, 3));
            }
        } finally {
            driver.memFree(dev);
            driver.memFreeHost(host);
            driver.streamDestroy(stream);
        }
    }

    @Test
    void aFunctionOfAnUnloadedModuleIsRefused() {
        MemorySegment module = KernelModule.load(driver, KernelModule.imageFor(9, 0));
        MemorySegment fill = driver.moduleGetFunction(module, "fill_f32");
        driver.moduleUnload(module);
        long x = driver.memAlloc(64);
        try {
            KernelArgs args = new KernelArgs().reset().ptr(x).f32(1f).i64(16);
            CudaException e = assertThrows(CudaException.class, () -> driver.launch("fill_f32", fill, 1, 256, MemorySegment.NULL, args));
            assertTrue(e.getMessage().contains("CUDA_ERROR_INVALID_HANDLE"), e.getMessage());
        } finally {
            driver.memFree(x);
        }
    }

    @Test
    void aThreadWithoutTheContextIsRefused() throws InterruptedException {
        Throwable[] seen = new Throwable[1];
        Thread t = new Thread(() -> {
            try {
                driver.memAlloc(64);
            } catch (Throwable e) {
                seen[0] = e;
            }
        });
        t.start();
        t.join();
        assertTrue(seen[0] instanceof CudaException && seen[0].getMessage().contains("CUDA_ERROR_INVALID_CONTEXT"),
                String.valueOf(seen[0]));
    }
}
