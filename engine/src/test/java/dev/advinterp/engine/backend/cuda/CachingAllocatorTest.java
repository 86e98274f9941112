package dev.advinterp.engine.backend.cuda;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The caching allocator's policy, run against a fake device that hands out addresses from a counter. */
class CachingAllocatorTest {
    private static final long KIB = 1024;
    private static final long MIB = 1024 * KIB;

    /**
     * A device of fixed capacity: addresses from a counter with a gap after every segment (so that
     * only splits of one segment can ever be neighbours), every malloc and release recorded.
     */
    static final class FakeDevice implements RawAllocator {
        final long capacity;
        long next = 1L << 32;
        final TreeMap<Long, Long> live = new TreeMap<>();
        final List<Long> mallocSizes = new ArrayList<>();
        final List<Long> releases = new ArrayList<>();
        int failedMallocs;

        FakeDevice(long capacity) {
            this.capacity = capacity;
        }

        long liveBytes() {
            return live.values().stream().mapToLong(Long::longValue).sum();
        }

        @Override
        public synchronized long malloc(long bytes) {
            mallocSizes.add(bytes);
            if (liveBytes() + bytes > capacity) {
                failedMallocs++;
                return 0;
            }
            long a = next;
            next += bytes + 64 * KIB;
            live.put(a, bytes);
            return a;
        }

        @Override
        public synchronized void release(long address) {
            if (live.remove(address) == null) fail("release of 0x" + Long.toHexString(address) + " which the device never handed out");
            releases.add(address);
        }

        /** The segment that holds [address, address + bytes), or fail. */
        void assertInsideSegment(long address, long bytes) {
            var seg = live.floorEntry(address);
            assertTrue(seg != null && address + bytes <= seg.getKey() + seg.getValue(),
                    "block 0x" + Long.toHexString(address) + "+" + bytes + " lies outside every live segment " + live);
        }
    }

    @Test
    void bestFitTakesTheSmallestCachedBlockThatFitsAndTheLowestAddressOnTies() {
        var dev = new FakeDevice(64 * MIB);
        try (var alloc = new CachingAllocator(dev)) {
            // Holes of 1 KiB, 4 KiB, 2 KiB and another 1 KiB, kept apart by live separators.
            long a = alloc.allocate(1000);
            alloc.allocate(512);
            long b = alloc.allocate(4096);
            alloc.allocate(512);
            long c = alloc.allocate(2048);
            alloc.allocate(512);
            long d = alloc.allocate(1024);
            alloc.allocate(512);
            alloc.free(d);
            alloc.free(c);
            alloc.free(b);
            alloc.free(a);
            alloc.checkInvariants();

            assertEquals(c, alloc.allocate(1500), "1.5 KiB goes into the 2 KiB hole, not the 4 KiB one");
            assertEquals(a, alloc.allocate(1024), "of the two 1 KiB holes the lower address");
            assertEquals(d, alloc.allocate(700), "then the other 1 KiB hole");
            assertEquals(b, alloc.allocate(3000), "the 4 KiB hole last");
            assertEquals(1, dev.mallocSizes.size(), "all from the one small segment: " + dev.mallocSizes);
            assertEquals(2 * MIB, dev.mallocSizes.getFirst());
            alloc.checkInvariants();
        }
    }

    @Test
    void freedBlocksAreReusedWithoutAskingTheDevice() {
        var dev = new FakeDevice(64 * MIB);
        try (var alloc = new CachingAllocator(dev)) {
            long big = alloc.allocate(3 * MIB + 1);
            alloc.free(big);
            assertEquals(big, alloc.allocate(3 * MIB + 1));
            assertEquals(List.of(4 * MIB), dev.mallocSizes, "large request rounded to a 2 MiB multiple, asked once");
            var s = alloc.stats();
            assertEquals(2, s.allocations());
            assertEquals(1, s.cacheHits());
            assertEquals(List.of(), dev.releases, "free keeps the memory cached");
        }
    }

    @Test
    void smallBlocksAreSplitFromOneSegmentAndMergeBackWhenFreed() {
        var dev = new FakeDevice(64 * MIB);
        try (var alloc = new CachingAllocator(dev)) {
            long a = alloc.allocate(1);
            long b = alloc.allocate(512);
            long c = alloc.allocate(513);
            assertEquals(a + 512, b, "splits are contiguous and 512-byte granular");
            assertEquals(b + 512, c);
            assertEquals(2 * 512 + 1024, alloc.stats().inUseBytes());
            alloc.free(b);
            alloc.checkInvariants();
            alloc.free(a);   // merges with b's hole
            alloc.checkInvariants();
            alloc.free(c);   // merges the hole with the rest of the segment
            alloc.checkInvariants();
            // Only a fully merged segment can serve 1 MiB at its base.
            assertEquals(a, alloc.allocate(MIB));
            long rest = alloc.allocate(MIB);
            assertEquals(a + MIB, rest, "the second half of the 2 MiB segment");
            assertEquals(1, dev.mallocSizes.size());
            assertEquals(0, alloc.stats().cachedBytes());
            alloc.checkInvariants();
        }
    }

    @Test
    void largeBlocksSplitOnlyWhenTheRemainderIsLarge() {
        var dev = new FakeDevice(64 * MIB);
        try (var alloc = new CachingAllocator(dev)) {
            long x = alloc.allocate(5 * MIB);              // segment of 6 MiB, 1 MiB left: kept inside the block
            assertEquals(6 * MIB, alloc.stats().inUseBytes());
            alloc.free(x);
            long y = alloc.allocate(2 * MIB);               // 4 MiB left: split off
            assertEquals(x, y);
            assertEquals(2 * MIB, alloc.stats().inUseBytes());
            long z = alloc.allocate(4 * MIB);
            assertEquals(x + 2 * MIB, z, "the remainder serves the next request");
            assertEquals(List.of(6 * MIB), dev.mallocSizes);
            alloc.free(y);
            alloc.free(z);
            alloc.checkInvariants();
            assertEquals(x, alloc.allocate(6 * MIB), "merged back into the whole segment");
            assertEquals(1, dev.mallocSizes.size());
        }
    }

    @Test
    void smallAndLargePoolsDoNotShareBlocks() {
        var dev = new FakeDevice(64 * MIB);
        try (var alloc = new CachingAllocator(dev)) {
            long large = alloc.allocate(2 * MIB);
            alloc.free(large);
            long small = alloc.allocate(4 * KIB);
            assertNotEquals(large, small);
            assertEquals(List.of(2 * MIB, 2 * MIB), dev.mallocSizes, "a small request opens a small segment");
            assertEquals(4 * KIB, alloc.stats().inUseBytes());
        }
    }

    @Test
    void statisticsCountInUsePeakCachedAndHits() {
        var dev = new FakeDevice(64 * MIB);
        try (var alloc = new CachingAllocator(dev)) {
            assertEquals(new CachingAllocator.Stats(0, 0, 0, 0, 0, 0), alloc.stats());
            long a = alloc.allocate(1000);                  // 1024
            long b = alloc.allocate(3 * MIB);               // 4 MiB segment, not split
            assertEquals(new CachingAllocator.Stats(1024 + 4 * MIB, 1024 + 4 * MIB, 2 * MIB - 1024, 6 * MIB, 2, 0), alloc.stats());
            alloc.free(b);
            assertEquals(new CachingAllocator.Stats(1024, 1024 + 4 * MIB, 6 * MIB - 1024, 6 * MIB, 2, 0), alloc.stats());
            alloc.allocate(10 * KIB);
            alloc.free(a);
            var s = alloc.stats();
            assertEquals(10 * KIB, s.inUseBytes());
            assertEquals(1024 + 4 * MIB, s.peakInUseBytes());
            assertEquals(3, s.allocations());
            assertEquals(1, s.cacheHits());
            alloc.emptyCache();
            s = alloc.stats();
            assertEquals(2 * MIB, s.rawAllocatedBytes(), "the large segment went back, the small one holds a live block");
            assertEquals(2 * MIB - 10 * KIB, s.cachedBytes());
            assertEquals(List.of(dev.live.firstKey() + 2 * MIB + 64 * KIB), dev.releases);
        }
    }

    @Test
    void outOfMemoryReleasesTheCacheAndRetriesOnce() {
        var dev = new FakeDevice(8 * MIB);
        try (var alloc = new CachingAllocator(dev)) {
            long small = alloc.allocate(100);             // 2 MiB small segment
            long large = alloc.allocate(5 * MIB);         // 6 MiB segment: the device is full
            alloc.free(small);
            alloc.free(large);
            assertEquals(8 * MIB, alloc.stats().cachedBytes());
            long big = alloc.allocate(7 * MIB);           // needs 8 MiB: fails, cache released, retried
            assertEquals(1, dev.failedMallocs);
            assertEquals(2, dev.releases.size(), "both cached segments were given back: " + dev.releases);
            dev.assertInsideSegment(big, 7 * MIB);
            var s = alloc.stats();
            assertEquals(8 * MIB, s.inUseBytes());
            assertEquals(8 * MIB, s.rawAllocatedBytes());
            assertEquals(0, s.cachedBytes());
            alloc.checkInvariants();
        }
    }

    @Test
    void outOfMemoryWithNothingCachedNamesTheBytes() {
        var dev = new FakeDevice(4 * MIB);
        try (var alloc = new CachingAllocator(dev)) {
            long a = alloc.allocate(3 * MIB);              // 4 MiB segment, all in use
            var e = assertThrows(DeviceOutOfMemoryException.class, () -> alloc.allocate(MIB + 1));
            assertTrue(e.getMessage().contains("asked 1048577 bytes"), e.getMessage());
            assertTrue(e.getMessage().contains("in use 4194304 bytes"), e.getMessage());
            assertTrue(e.getMessage().contains("cached 0 bytes"), e.getMessage());
            assertEquals(1048577, e.askedBytes());
            assertEquals(4 * MIB, e.inUseBytes());
            assertEquals(2, dev.failedMallocs, "tried, released the (empty) cache, tried once more");
            alloc.checkInvariants();
            // The allocator is still usable once memory is freed.
            alloc.free(a);
            assertEquals(a, alloc.allocate(MIB + 1));
            assertEquals(2, dev.failedMallocs);
        }
    }

    @Test
    void badFreesAndSizesAreRejected() {
        var dev = new FakeDevice(64 * MIB);
        var alloc = new CachingAllocator(dev);
        long a = alloc.allocate(256);
        alloc.free(a);
        var twice = assertThrows(IllegalArgumentException.class, () -> alloc.free(a));
        assertTrue(twice.getMessage().contains(Long.toHexString(a)), twice.getMessage());
        assertThrows(IllegalArgumentException.class, () -> alloc.free(a + 512), "an address inside the cache but never handed out");
        assertThrows(IllegalArgumentException.class, () -> alloc.free(12345));
        assertThrows(IllegalArgumentException.class, () -> alloc.allocate(-1));
        assertThrows(IllegalArgumentException.class, () -> alloc.allocate(Long.MAX_VALUE));
        assertThrows(IllegalArgumentException.class, () -> new CachingAllocator(null));
        alloc.checkInvariants();
        alloc.close();
        assertThrows(IllegalStateException.class, () -> alloc.allocate(16));
        assertThrows(IllegalStateException.class, () -> alloc.free(a));
    }

    @Test
    void zeroBytesStillGetTheirOwnAddress() {
        try (var alloc = new CachingAllocator(new FakeDevice(64 * MIB))) {
            long a = alloc.allocate(0);
            long b = alloc.allocate(0);
            assertNotEquals(a, b);
            assertEquals(1024, alloc.stats().inUseBytes());
        }
    }

    @Test
    void closeReleasesEverySegmentLiveOrCached() {
        var dev = new FakeDevice(64 * MIB);
        var alloc = new CachingAllocator(dev);
        alloc.allocate(100);
        long large = alloc.allocate(3 * MIB);
        alloc.allocate(20 * MIB);
        alloc.free(large);
        assertEquals(3, dev.live.size());
        alloc.close();
        assertTrue(dev.live.isEmpty(), "still held after close: " + dev.live);
        assertEquals(3, dev.releases.size());
        assertEquals(0, alloc.stats().rawAllocatedBytes());
        alloc.close();
        assertEquals(3, dev.releases.size(), "closing twice releases nothing more");
    }

    @Test
    void seededRandomUseKeepsEveryInvariant() {
        var dev = new FakeDevice(96 * MIB);
        var rnd = new Random(20240611L);
        Map<Long, Long> live = new HashMap<>();        // address → requested bytes
        List<Long> order = new ArrayList<>();
        long peakSeen = 0;
        int allocations = 0;
        int ooms = 0;
        try (var alloc = new CachingAllocator(dev)) {
            for (int step = 0; step < 6000; step++) {
                boolean doAlloc = live.isEmpty() || rnd.nextInt(100) < (live.size() < 30 ? 60 : 45);
                if (doAlloc) {
                    long bytes = switch (rnd.nextInt(10)) {
                        case 0 -> 0;
                        case 1, 2, 3, 4 -> rnd.nextInt(8 * 1024);
                        case 5, 6, 7 -> rnd.nextInt((int) MIB) + 1;
                        default -> MIB + 1 + rnd.nextInt((int) (12 * MIB));
                    };
                    int failedBefore = dev.failedMallocs;
                    try {
                        long a = alloc.allocate(bytes);
                        assertTrue(live.putIfAbsent(a, bytes) == null, "address 0x" + Long.toHexString(a) + " handed out twice");
                        order.add(a);
                        allocations++;
                        dev.assertInsideSegment(a, Math.max(bytes, 1));
                    } catch (DeviceOutOfMemoryException e) {
                        ooms++;
                        assertEquals(failedBefore + 2, dev.failedMallocs, "an OOM must come after two failed device calls");
                        int released = dev.releases.size();
                        alloc.emptyCache();
                        assertEquals(released, dev.releases.size(), "the cache was already released before giving up");
                    }
                } else {
                    long a = order.remove(rnd.nextInt(order.size()));
                    live.remove(a);
                    alloc.free(a);
                }
                if (step % 500 == 250) alloc.emptyCache();
                alloc.checkInvariants();
                assertNoOverlap(live);
                var s = alloc.stats();
                long requested = live.entrySet().stream().mapToLong(e -> roundUp(Math.max(e.getValue(), 1))).sum();
                assertTrue(s.inUseBytes() >= requested, "in use " + s.inUseBytes() + " < requested " + requested);
                assertEquals(dev.liveBytes(), s.rawAllocatedBytes());
                assertEquals(s.rawAllocatedBytes() - s.inUseBytes(), s.cachedBytes());
                assertEquals(allocations, s.allocations());
                peakSeen = Math.max(peakSeen, s.inUseBytes());
                assertEquals(peakSeen, s.peakInUseBytes());
            }
            assertTrue(ooms > 0 && ooms < 200, "the sequence should touch the capacity now and then: " + ooms + " OOMs");
            assertTrue(alloc.stats().cacheHits() > allocations / 2, "most requests should be served from the cache");
            for (long a : order) alloc.free(a);
            alloc.checkInvariants();
            assertEquals(0, alloc.stats().inUseBytes());
            alloc.emptyCache();
            assertEquals(0, alloc.stats().rawAllocatedBytes());
            assertTrue(dev.live.isEmpty());
        }
    }

    @Test
    void concurrentUseFromSeveralThreadsStaysConsistent() throws Exception {
        var dev = new FakeDevice(1L << 40);
        try (var alloc = new CachingAllocator(dev); ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<Future<?>> done = new ArrayList<>();
            var made = new java.util.concurrent.atomic.AtomicLong();
            for (int t = 0; t < 4; t++) {
                int seed = t;
                done.add(pool.submit(() -> {
                    var rnd = new Random(seed);
                    List<Long> mine = new ArrayList<>();
                    for (int i = 0; i < 2000; i++) {
                        if (mine.isEmpty() || rnd.nextBoolean()) {
                            mine.add(alloc.allocate(rnd.nextInt(3 * (int) MIB)));
                            made.incrementAndGet();
                        }
                        else alloc.free(mine.remove(rnd.nextInt(mine.size())));
                    }
                    for (long a : mine) alloc.free(a);
                }));
            }
            for (var f : done) f.get();
            alloc.checkInvariants();
            assertEquals(0, alloc.stats().inUseBytes());
            assertEquals(made.get(), alloc.stats().allocations());
        }
    }

    // ------------------------------------------------------------------ helpers

    private static long roundUp(long v) {
        return (v + 511) / 512 * 512;
    }

    private static void assertNoOverlap(Map<Long, Long> live) {
        List<Long> addrs = new ArrayList<>(live.keySet());
        Collections.sort(addrs);
        for (int i = 1; i < addrs.size(); i++) {
            long prevEnd = addrs.get(i - 1) + Math.max(1, live.get(addrs.get(i - 1)));
            assertTrue(prevEnd <= addrs.get(i), "live blocks overlap at 0x" + Long.toHexString(addrs.get(i)));
        }
    }
}
