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
    void aFreedLargeBlockServesTheNextRequestOfItsSizeClass() {
        long hits = NativeMemory.cacheStats().hits(), misses = NativeMemory.cacheStats().misses();
        MemorySegment a = NativeMemory.allocate(3 * MIB + 5);
        a.setAtIndex(ValueLayout.JAVA_FLOAT, 0, 42f);
        assertEquals(misses + 1, NativeMemory.cacheStats().misses(), "the first request goes to the system");
        long address = a.address();
        NativeMemory.free(a);
        assertEquals(4 * MIB, NativeMemory.cacheStats().idleBytes(), "rounded up to a whole MiB and kept");
        // the same class (4 MiB) fits
        MemorySegment b = NativeMemory.allocate(4 * MIB - 1000);
        assertEquals(address, b.address(), "the idle block is handed out again");
        assertEquals(4 * MIB - 1000, b.byteSize(), "the segment has the size asked for");
        assertEquals(hits + 1, NativeMemory.cacheStats().hits());
        assertEquals(0, NativeMemory.cacheStats().idleBytes());
        NativeMemory.free(b);
        // a block up to an eighth larger than the request's class fits too: 9 MiB for the 8 MiB class
        MemorySegment nine = NativeMemory.allocate(9 * MIB);
        long at = nine.address();
        NativeMemory.free(nine);
        MemorySegment eight = NativeMemory.allocate(7 * MIB + 1);
        assertEquals(at, eight.address(), "the 9 MiB block serves a request of the 8 MiB class");
        NativeMemory.free(eight);
        MemorySegment smaller = NativeMemory.allocate(6 * MIB);
        assertNotEquals(at, smaller.address(), "9 MiB is more than an eighth above a 6 MiB class");
        NativeMemory.free(smaller);
    }

    @Test
    void aBlockMoreThanAnEighthLargerIsNotHandedOut() {
        MemorySegment big = NativeMemory.allocate(16 * MIB);
        NativeMemory.free(big);
        MemorySegment small = NativeMemory.allocate(2 * MIB);
        assertNotEquals(big.address(), small.address(), "16 MiB is not spent on a 2 MiB request");
        assertEquals(16 * MIB, NativeMemory.cacheStats().idleBytes());
        NativeMemory.free(small);
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
        MemorySegment a = NativeMemory.allocate(3 * MIB + 5);
        assertEquals(current + 3 * MIB + 5, NativeMemory.currentBytes());
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
