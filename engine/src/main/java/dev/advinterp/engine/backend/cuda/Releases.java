package dev.advinterp.engine.backend.cuda;

/**
 * Runs a sequence of release steps (handles, memory, the stream, the context) so that each runs
 * even when an earlier one fails: a context that is not given back leaves the device in use for
 * the rest of the process.
 */
final class Releases {
    private Releases() {
    }

    /** Runs every step; returns the first failure with the later ones suppressed in it, or null. */
    static RuntimeException runAll(Runnable... steps) {
        RuntimeException first = null;
        for (Runnable step : steps) {
            try {
                step.run();
            } catch (RuntimeException e) {
                if (first == null) first = e;
                else first.addSuppressed(e);
            }
        }
        return first;
    }
}
