package dev.advinterp.engine.memory;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The host caching allocator's policy, as written at the top of {@link NativeMemory}. */
class NativeMemoryTest {
    private static final long MIB = 1L << 20;
    private long limitBefore;

    @BeforeEach
    void generousLimit() {
        limitBefore = NativeMemory.cacheLimit();
        NativeMemory.cacheLimit(64 * MIB);
        NativeMemory.emptyCache();
    }

    @AfterEach
    void restore() {
        NativeMemory.cacheLimit(limitBefore);
    }

    @Test
    void aFreedLargeBlockServesTheNextRequestOfItsSize() {
        long hits = NativeMemory.cacheStats().hits(), misses = NativeMemory.cacheStats().misses();
        MemorySegment a = NativeMemory.allocate(3 * MIB + 5);
        a.setAtIndex(ValueLayout.JAVA_FLOAT, 0, 42f);
        assertEquals(misses + 1, NativeMemory.cacheStats().misses(), "the first request maps new memory");
        assertEquals(0, a.address() % (2 * MIB), "a large block starts on a huge-page boundary");
        long address = a.address();
        NativeMemory.free(a);
        long idle = NativeMemory.cacheStats().idleBytes();
        assertTrue(idle > 3 * MIB && idle <= 3 * MIB + 64 * 1024, "rounded up to whole pages and kept: " + idle);
        MemorySegment b = NativeMemory.allocate(3 * MIB + 100);
        assertEquals(address, b.address(), "the idle block is handed out again");
        assertEquals(3 * MIB + 100, b.byteSize(), "the segment has the size asked for");
        assertEquals(42f, b.getAtIndex(ValueLayout.JAVA_FLOAT, 0), "with its pages: nothing was given back");
        assertEquals(hits + 1, NativeMemory.cacheStats().hits());
        assertEquals(0, NativeMemory.cacheStats().idleBytes());
        NativeMemory.free(b);
    }

    @Test
    void aBlockUpToAnEighthLargerIsHandedOutWhole() {
        MemorySegment nine = NativeMemory.allocate(9 * MIB);
        NativeMemory.free(nine);
        long reserved = NativeMemory.reservedBytes(), hits = NativeMemory.cacheStats().hits();
        MemorySegment eight = NativeMemory.allocate(8 * MIB);
        assertEquals(nine.address(), eight.address());
        assertEquals(hits + 1, NativeMemory.cacheStats().hits());
        assertEquals(reserved, NativeMemory.reservedBytes(), "the ninth MiB stays with the block");
        NativeMemory.free(eight);
        assertEquals(9 * MIB, NativeMemory.cacheStats().idleBytes());
    }

    @Test
    void aLargerBlockIsTrimmedToTheRequest() {
        MemorySegment big = NativeMemory.allocate(16 * MIB);
        big.setAtIndex(ValueLayout.JAVA_FLOAT, 0, 7f);
        NativeMemory.free(big);
        long reserved = NativeMemory.reservedBytes(), trimmed = NativeMemory.cacheStats().trimmed();
        long misses = NativeMemory.cacheStats().misses();
        MemorySegment small = NativeMemory.allocate(2 * MIB);
        assertEquals(big.address(), small.address(), "the idle block serves the smaller request");
        assertEquals(7f, small.getAtIndex(ValueLayout.JAVA_FLOAT, 0), "its first pages are kept");
        small.setAtIndex(ValueLayout.JAVA_FLOAT, 2 * MIB / 4 - 1, 1f);
        assertEquals(trimmed + 1, NativeMemory.cacheStats().trimmed());
        assertEquals(misses, NativeMemory.cacheStats().misses(), "nothing new was mapped");
        assertEquals(reserved - 14 * MIB, NativeMemory.reservedBytes(), "the 14 MiB past the request went back");
        assertEquals(0, NativeMemory.cacheStats().idleBytes());
        NativeMemory.free(small);
        assertEquals(2 * MIB, NativeMemory.cacheStats().idleBytes());
    }

    @Test
    void withOnlySmallerBlocksIdleTheLargestIsGrown() {
        MemorySegment two = NativeMemory.allocate(2 * MIB), four = NativeMemory.allocate(4 * MIB);
        four.setAtIndex(ValueLayout.JAVA_FLOAT, 0, 3f);
        four.setAtIndex(ValueLayout.JAVA_FLOAT, 4 * MIB / 4 - 1, 5f);
        NativeMemory.free(two);
        NativeMemory.free(four);
        long reserved = NativeMemory.reservedBytes(), grown = NativeMemory.cacheStats().grown();
        long misses = NativeMemory.cacheStats().misses();
        MemorySegment six = NativeMemory.allocate(6 * MIB);
        assertEquals(grown + 1, NativeMemory.cacheStats().grown());
        assertEquals(misses, NativeMemory.cacheStats().misses(), "no new mapping while a block is idle");
        assertEquals(reserved + 2 * MIB, NativeMemory.reservedBytes(), "only the difference is mapped");
        assertEquals(2 * MIB, NativeMemory.cacheStats().idleBytes(), "the 2 MiB block stays idle");
        assertEquals(3f, six.getAtIndex(ValueLayout.JAVA_FLOAT, 0), "the grown block keeps its pages");
        assertEquals(5f, six.getAtIndex(ValueLayout.JAVA_FLOAT, 4 * MIB / 4 - 1));
        six.setAtIndex(ValueLayout.JAVA_FLOAT, 6 * MIB / 4 - 1, 1f);
        assertEquals(1f, six.getAtIndex(ValueLayout.JAVA_FLOAT, 6 * MIB / 4 - 1), "and all of it is usable");
        NativeMemory.free(six);
        assertEquals(8 * MIB, NativeMemory.cacheStats().idleBytes());
    }

    @Test
    void liveBlocksNeverOverlapThroughTrimsAndGrowths() {
        var random = new java.util.Random(16);
        var live = new java.util.ArrayList<MemorySegment>();
        long reservedBefore = NativeMemory.reservedBytes();
        long trimmed = NativeMemory.cacheStats().trimmed(), grown = NativeMemory.cacheStats().grown();
        for (int step = 0; step < 400; step++) {
            if (live.isEmpty() || (live.size() < 12 && random.nextBoolean())) {
                MemorySegment m = NativeMemory.allocate(MIB + random.nextInt(11 * (int) MIB));
                stamp(m, live.size() + 1000 * step);
                live.add(m);
            } else {
                MemorySegment m = live.remove(random.nextInt(live.size()));
                NativeMemory.free(m);
            }
            for (MemorySegment m : live) {
                float v = m.getAtIndex(ValueLayout.JAVA_FLOAT, 0);
                long last = m.byteSize() / 4 - 1;
                assertEquals(v, m.getAtIndex(ValueLayout.JAVA_FLOAT, last / 2), "block overwritten at step " + step);
                assertEquals(v, m.getAtIndex(ValueLayout.JAVA_FLOAT, last), "block overwritten at step " + step);
            }
        }
        assertTrue(NativeMemory.cacheStats().trimmed() > trimmed && NativeMemory.cacheStats().grown() > grown,
                "the sequence exercises both trimming and growing: " + NativeMemory.cacheStats().describe());
        live.forEach(NativeMemory::free);
        NativeMemory.emptyCache();
        assertEquals(reservedBefore, NativeMemory.reservedBytes(), "every block went back");
    }

    /** Writes {@code v} at the first, middle and last float of {@code m}. */
    private static void stamp(MemorySegment m, float v) {
        long last = m.byteSize() / 4 - 1;
        m.setAtIndex(ValueLayout.JAVA_FLOAT, 0, v);
        m.setAtIndex(ValueLayout.JAVA_FLOAT, last / 2, v);
        m.setAtIndex(ValueLayout.JAVA_FLOAT, last, v);
    }

    @Test
    void smallBlocksAreLeftToTheCLibrary() {
        long idle = NativeMemory.cacheStats().idleBytes(), misses = NativeMemory.cacheStats().misses();
        MemorySegment s = NativeMemory.allocate(1000);
        NativeMemory.free(s);
        assertEquals(idle, NativeMemory.cacheStats().idleBytes());
        assertEquals(misses, NativeMemory.cacheStats().misses(), "not counted by the cache at all");
    }

    @Test
    void pastTheLimitTheBlocksFreedLongestAgoGoBack() {
        NativeMemory.cacheLimit(10 * MIB);
        long returned = NativeMemory.cacheStats().returnedBlocks();
        MemorySegment a = NativeMemory.allocate(4 * MIB), b = NativeMemory.allocate(4 * MIB), c = NativeMemory.allocate(4 * MIB);
        long reserved = NativeMemory.reservedBytes();
        NativeMemory.free(a);
        NativeMemory.free(b);
        NativeMemory.free(c); // 12 MiB idle > 10: a, the oldest, goes back
        assertEquals(8 * MIB, NativeMemory.cacheStats().idleBytes());
        assertEquals(returned + 1, NativeMemory.cacheStats().returnedBlocks());
        assertEquals(reserved - 4 * MIB, NativeMemory.reservedBytes());
        MemorySegment again = NativeMemory.allocate(4 * MIB);
        assertEquals(c.address(), again.address(), "of one size, the last freed comes first");
        NativeMemory.free(again);
        NativeMemory.emptyCache();
        assertEquals(0, NativeMemory.cacheStats().idleBytes());
        assertEquals(reserved - 12 * MIB, NativeMemory.reservedBytes());
    }

    @Test
    void turnedOffNothingIsKept() {
        NativeMemory.cacheLimit(0);
        long misses = NativeMemory.cacheStats().misses();
        NativeMemory.free(NativeMemory.allocate(4 * MIB));
        assertEquals(0, NativeMemory.cacheStats().idleBytes());
        assertEquals(misses, NativeMemory.cacheStats().misses(), "large blocks go straight to the system");
    }

    @Test
    void theTensorStatisticsCountWhatWasAskedFor() {
        long current = NativeMemory.currentBytes();
        MemorySegment a = NativeMemory.allocate(4 * MIB - 5);
        assertEquals(current + 4 * MIB - 5, NativeMemory.currentBytes());
        NativeMemory.free(a);
        assertEquals(current, NativeMemory.currentBytes());
        assertTrue(NativeMemory.cacheStats().describe().contains("4 MiB idle"), NativeMemory.cacheStats().describe());
    }

    @Test
    void theLimitSettingIsParsedOrNamed() {
        assertEquals(4L << 30, NativeMemory.parseLimit("auto", 16L << 30));
        assertEquals(0, NativeMemory.parseLimit("none", 16L << 30));
        assertEquals(0, NativeMemory.parseLimit("0", 16L << 30));
        assertEquals(2L << 30, NativeMemory.parseLimit(" 2G ", 0));
        assertEquals(512L << 20, NativeMemory.parseLimit("512m", 0));
        assertEquals(1000, NativeMemory.parseLimit("1000", 0));
        for (String bad : new String[]{"", "lots", "-1", "2t", "1.5g"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NativeMemory.parseLimit(bad, 0), bad);
            assertTrue(e.getMessage().contains("ADVINTERP_HOST_CACHE"), e.getMessage());
        }
    }
}
