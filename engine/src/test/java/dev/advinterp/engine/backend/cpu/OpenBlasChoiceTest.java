package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.EngineConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ADVINTERP_BLAS, varied through {@link EngineConfig} instead of the process's environment. */
class OpenBlasChoiceTest {

    @Test
    void noneLoadsNothingAndSaysSo() {
        OpenBlas.LoadResult r = OpenBlas.find(EngineConfig.current().withBlas("none", EngineConfig.current().cache()));
        assertTrue(r.blas().isEmpty());
        assertEquals(List.of("ADVINTERP_BLAS=none: OpenBLAS not loaded"), r.attempts());
    }

    @Test
    void aPathThatHoldsNoLibraryIsReportedAsNotFound(@TempDir Path dir) {
        Path missing = dir.resolve("libopenblas.so");
        OpenBlas.LoadResult r = OpenBlas.find(EngineConfig.current().withBlas(missing.toString(), dir));
        assertTrue(r.blas().isEmpty());
        assertEquals(List.of(missing + ": not found"), r.attempts());
    }
}
