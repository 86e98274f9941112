package dev.advinterp.engine.backend.cuda;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class ReleasesTest {

    @Test
    void everyStepRunsAndTheFirstFailureCarriesTheOthers() {
        List<String> ran = new ArrayList<>();
        RuntimeException f = Releases.runAll(() -> ran.add("handles"), () -> {
            ran.add("stream");
            throw new IllegalStateException("stream");
        }, () -> {
            ran.add("context");
            throw new IllegalArgumentException("context");
        });
        assertEquals(List.of("handles", "stream", "context"), ran);
        assertEquals("stream", f.getMessage());
        assertEquals(1, f.getSuppressed().length);
        assertEquals("context", f.getSuppressed()[0].getMessage());
        assertNull(Releases.runAll(() -> ran.add("again")));
    }
}
