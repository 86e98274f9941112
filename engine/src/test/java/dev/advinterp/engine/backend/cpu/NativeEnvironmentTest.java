package dev.advinterp.engine.backend.cpu;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The thread settings the CPU backend gives the native libraries through the process environment. */
class NativeEnvironmentTest {

    @Test
    void aValueAlreadySetStaysAndDoctorDescribesBoth() {
        String name = "ADVINTERP_TEST_" + ProcessHandle.current().pid();
        assertEquals(Optional.empty(), NativeEnvironment.get(name));
        NativeEnvironment.setUnlessSet(name, "first");
        NativeEnvironment.setUnlessSet(name, "second");
        assertEquals(Optional.of("first"), NativeEnvironment.get(name));
        assertEquals(name + "=first, " + name + "_NONE unset", NativeEnvironment.describe(name, name + "_NONE"));
    }

    @Test
    void oneDnnsOpenMpTeamTakesTheEnginesThreadCountAndSleepsWhenIdle() {
        Assumptions.assumeTrue(DnnlConvolutionTest.bundled().dnnl().isPresent(), "oneDNN not loaded");
        assertSet("OMP_NUM_THREADS", String.valueOf(Parallel.THREADS));
        assertSet("OMP_WAIT_POLICY", "PASSIVE");
    }

    @Test
    void openBlasWorkersSleepWhenIdle() {
        Assumptions.assumeTrue(OpenBlas.load().blas().isPresent(), "OpenBLAS not loaded");
        assertSet("OPENBLAS_THREAD_TIMEOUT", OpenBlas.THREAD_TIMEOUT);
    }

    /** The variable the library read: the environment's own value if the JVM started with one, else the engine's. */
    private static void assertSet(String name, String engines) {
        String before = System.getenv(name); // the JVM's snapshot of the environment it started with
        assertEquals(Optional.of(before != null ? before : engines), NativeEnvironment.get(name), name);
    }
}
