package dev.advinterp.engine.backend.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class ConvAlgorithmsTest {
    private static Cudnn.AlgoPerf a(int algo, int status, long memory, boolean det) {
        return new Cudnn.AlgoPerf(algo, status, memory, det, 3);
    }

    @Test
    void forwardTakesTheBestRankedUsableAlgorithm() {
        Cudnn.AlgoPerf[] ranked = {a(6, 9, 0, true), a(1, 0, 2L << 30, true), a(0, 0, 0, false), a(2, 0, 100, true)};
        assertEquals(0, ConvAlgorithms.choose(ranked, false, 1L << 30).algo());
    }

    @Test
    void backwardPrefersADeterministicAlgorithmAndFallsBackToTheBestOtherwise() {
        Cudnn.AlgoPerf[] ranked = {a(0, 0, 0, false), a(3, 0, 10, false), a(1, 0, 50, true)};
        assertEquals(1, ConvAlgorithms.choose(ranked, true, 1L << 30).algo());
        Cudnn.AlgoPerf[] none = {a(0, 0, 0, false), a(3, 0, 10, false)};
        assertEquals(0, ConvAlgorithms.choose(none, true, 1L << 30).algo());
    }

    @Test
    void nothingUsableIsNull() {
        assertNull(ConvAlgorithms.choose(new Cudnn.AlgoPerf[]{a(0, 9, 0, true)}, false, 1L << 30));
        assertNull(ConvAlgorithms.choose(new Cudnn.AlgoPerf[0], true, 1L << 30));
    }

    @Test
    void perfStructHasCudnnsSizeAndOffsets() {
        assertEquals(48, Cudnn.ALGO_PERF.byteSize());
        assertEquals(16, Cudnn.ALGO_PERF.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("memory")));
        assertEquals(24, Cudnn.ALGO_PERF.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("determinism")));
    }
}
