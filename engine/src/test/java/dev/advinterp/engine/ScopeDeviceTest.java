package dev.advinterp.engine;

import dev.advinterp.engine.backend.Backend;
import dev.advinterp.engine.backend.Backends;
import dev.advinterp.engine.backend.cuda.CudaBackend;
import dev.advinterp.engine.backend.cuda.HostKernelRuntime;
import dev.advinterp.engine.memory.HostMemory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static dev.advinterp.engine.TestData.assertThrowsNaming;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The device is explicit: a scope names where the factories make its tensors, nested scopes keep
 * it, ops put their outputs beside their inputs, and a tensor of one device handed to another is
 * an exception naming both, never a native call with a foreign address. The second device is the
 * CUDA backend over the stand-in that runs its kernels on the CPU (skipped, with the reason,
 * without g++).
 */
class ScopeDeviceTest {
    private static CudaBackend gpu;

    @BeforeAll
    static void openSecondDevice() {
        if (HostKernelRuntime.unavailableReason().isEmpty()) gpu = HostKernelRuntime.openBackend(64L << 20);
    }

    @AfterAll
    static void closeSecondDevice() {
        if (gpu != null) gpu.close();
    }

    @BeforeEach
    void needsSecondDevice() {
        assumeTrue(gpu != null, () -> "no second device: " + HostKernelRuntime.unavailableReason().orElse(""));
    }

    @Test
    void aScopeNamesTheDeviceOfTheTensorsMadeInItAndNestedScopesKeepIt() {
        DeviceMemory outside = Scope.current().memory();
        try (Scope onGpu = Scope.open(gpu)) {
            assertSame(gpu, onGpu.memory());
            Tensor x = Tensor.of(new float[]{1, -2, 3}, 3);
            assertSame(gpu, x.memory());
            assertEquals(Device.CUDA, x.device());
            try (Scope inner = Scope.open()) {
                assertSame(gpu, inner.memory());
                Tensor y = Ops.relu(Tensor.full(Shape.of(3), -1f));
                assertSame(gpu, y.memory(), "an op's output lives beside its inputs");
                assertSame(gpu, Backends.of(y));
                assertArrayEquals(new float[]{0, 0, 0}, y.toArray());
            }
            try (Scope onHost = Scope.open(HostMemory.INSTANCE)) {
                assertEquals(Device.CPU, Tensor.zeros(2).device());
            }
            assertArrayEquals(new float[]{1, 0, 3}, Ops.relu(x).toArray());
        }
        assertSame(outside, Scope.current().memory(), "closing the scope gives the enclosing device back");
    }

    @Test
    void tensorsOfTwoDevicesDoNotMix() {
        try (Scope s = Scope.open()) {
            Tensor onCpu = Tensor.of(new float[]{1, 2}, 2);
            Tensor onGpu;
            try (Scope g = Scope.open(gpu)) {
                onGpu = g.keep(Tensor.of(new float[]{3, 4}, 2));
            }
            assertThrowsNaming(IllegalArgumentException.class, () -> Ops.add(onCpu, onGpu), "add", "different devices", "CPU", "CUDA");
            assertThrowsNaming(IllegalArgumentException.class, () -> onCpu.copyFrom(onGpu), "copyFrom", "host memory");
            Backend cpu = Backends.cpu();
            assertThrowsNaming(IllegalArgumentException.class, () -> gpu.reluForward(onCpu, onGpu), "reluForward", "[2]", "CPU");
            // a tensor copied through the host arrives whole
            onCpu.copyFrom(Tensor.of(onGpu.toArray(), 2));
            assertArrayEquals(new float[]{3, 4}, onCpu.toArray());
            assertSame(cpu, Backends.of(onCpu));
        }
    }

    @Test
    void aRangeCopyStaysOnItsDeviceAndInsideBothTensors() {
        try (Scope g = Scope.open(gpu)) {
            Tensor a = Tensor.of(new float[]{1, 2, 3, 4, 5, 6}, 2, 3), b = Tensor.zeros(2, 3);
            b.copyFrom(a, 3, 0, 3);
            assertArrayEquals(new float[]{4, 5, 6, 0, 0, 0}, b.toArray());
            assertThrowsNaming(IllegalArgumentException.class, () -> b.copyFrom(a, 4, 0, 3), "copyFrom", "element 4", "[2, 3]");
            assertThrowsNaming(IllegalArgumentException.class, () -> b.copyFrom(a, 0, Long.MAX_VALUE, 1), "copyFrom");
        }
    }
}
