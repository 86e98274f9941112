package dev.advinterp.engine;

import dev.advinterp.engine.backend.Backend;
import dev.advinterp.engine.backend.Backends;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Before each engine test class: the default backend that the system property
 * {@code advinterp.device} asks for must open. The op tests allocate through the default backend,
 * so {@code -Dadvinterp.device=cuda} runs them unchanged on the GPU; on a machine where CUDA
 * cannot be used, the first class fails with the reason and the others are skipped, pointing to
 * it, instead of hundreds of tests failing one by one. The backend in use is printed once.
 */
public final class RequestedDeviceCheck implements BeforeAllCallback {
    private static volatile String failure;
    private static volatile boolean announced;

    @Override
    public void beforeAll(ExtensionContext context) {
        String reported = failure;
        assumeTrue(reported == null, () -> "skipped: the default backend did not open (" + reported + ")");
        Backend b;
        try {
            b = Backends.defaultBackend();
        } catch (RuntimeException e) {
            failure = e.getMessage();
            throw e;
        }
        if (!announced) {
            announced = true;
            System.err.println("engine tests on " + b.device() + ": " + b.describe()
                    + " (system property " + Backends.DEVICE_PROPERTY + "=" + System.getProperty(Backends.DEVICE_PROPERTY, Backends.DEFAULT_DEVICE) + ")");
        }
    }
}
