package dev.advinterp.engine.memory;

import dev.advinterp.engine.EngineConfig;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Host memory for tensors: 64-byte aligned blocks (so that SIMD loads and OpenBLAS see aligned
 * rows), large ones mapped from the kernel and kept for reuse by a caching allocator, with
 * statistics.
 *
 * <h2>Policy</h2>
 * <ul>
 * <li><b>Small requests</b> (below {@link #LARGE}, 1 MiB) go to {@code posix_memalign}/{@code free}
 *     directly: glibc keeps freed small chunks in its bins and hands them out again with their
 *     pages still mapped.</li>
 * <li><b>Large requests</b> are rounded up to whole pages and mapped with {@code mmap}, starting on
 *     a 2 MiB boundary and advised for transparent huge pages ({@code madvise(MADV_HUGEPAGE)}, which
 *     Linux honours when THP is {@code always} or {@code madvise}): the first writer then faults in
 *     2 MiB pages, 512 times fewer faults than 4 KiB ones. Mapping them ourselves, not through
 *     glibc, means that a block given back leaves the process at once.</li>
 * <li><b>A freed large block goes to the cache</b>, not back to the system: without it a training step
 *     pays the page faults of fresh memory for the same sizes in every iteration (first-touching a
 *     new 38 MB block costs more than a pass of arithmetic over it).</li>
 * <li><b>Any idle block serves a large request, and no memory is mapped while one is idle</b>, so
 *     that what the process holds stays close to what its tensors hold at their peak:
 *     <ol>
 *     <li>the smallest idle block at least as large as the request; of one size, the last freed. Up
 *         to an eighth larger it is handed out whole (<i>hit</i>); larger, its pages past the
 *         request go back to the system ({@code munmap} of the tail, <i>trimmed</i>);</li>
 *     <li>else the largest idle block, grown to the request by {@code mremap}, which keeps its pages
 *         (the kernel may move it, without copying) and maps only the difference (<i>grown</i>);</li>
 *     <li>else a new mapping (<i>miss</i>).</li>
 *     </ol>
 *     A cache that only reuses blocks of the same size keeps the idle blocks of other sizes at the
 *     step's peak: 60–210 MiB more than the live tensors in the models' training steps.</li>
 * <li><b>The cache is bounded</b>: at most {@link #cacheLimit()} idle bytes ({@code ADVINTERP_HOST_CACHE},
 *     default a quarter of physical memory; {@code none} turns the cache off, and large requests
 *     then go to {@code posix_memalign} as small ones do). Past it, the blocks freed longest ago go
 *     back to the system. A mapping that fails empties the cache and tries once more.
 *     {@link #emptyCache()} returns every idle block.</li>
 * </ul>
 * Statistics: {@link #currentBytes()} counts the bytes tensors asked for and hold now (what the
 * engine's memory figures report), {@link #reservedBytes()} what the allocator holds from the
 * system (live large blocks at their page-rounded size, plus the idle ones), with their peaks, and
 * the cache's counters ({@link #cacheStats()}).
 *
 * <p>The segments handed out have global scope; safety against use after free comes from
 * {@code Storage}, which checks its state before any access through the public API.
 */
public final class NativeMemory {
    public static final long ALIGNMENT = 64;
    /** Requests from this size on are cached. */
    public static final long LARGE = 1L << 20;

    /** The alignment of large blocks: a transparent huge page. */
    private static final long HUGE_PAGE = 2L << 20;
    private static final int MADV_HUGEPAGE = 14;
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
    private static final int MREMAP_MAYMOVE = 1;
    /** mmap's and mremap's MAP_FAILED, (void *) -1. */
    private static final long MAP_FAILED = -1;

    private static final MethodHandle POSIX_MEMALIGN;
    private static final MethodHandle FREE;
    private static final MethodHandle MMAP;
    private static final MethodHandle MUNMAP;
    /** mremap, or null where the C library lacks it (not Linux): a block then is not grown. */
    private static final MethodHandle MREMAP;
    /** madvise, or null where the C library lacks it. */
    private static final MethodHandle MADVISE;
    /** The system's page size, the unit of large blocks. */
    private static final long PAGE;
    private static final AtomicLong CURRENT = new AtomicLong();
    private static final AtomicLong PEAK = new AtomicLong();
    private static final AtomicLong ALLOCATIONS = new AtomicLong();

    // the cache: guarded by NativeMemory.class
    private static final TreeMap<Long, ArrayDeque<Long>> IDLE_BY_SIZE = new TreeMap<>();
    /** Idle blocks in the order they were freed (address → size), oldest first. */
    private static final LinkedHashMap<Long, Long> IDLE_BY_AGE = new LinkedHashMap<>();
    /** Live large blocks (address → size of the block, which may exceed the request). */
    private static final Map<Long, Long> LIVE_LARGE = new HashMap<>();
    private static long limit = -1;
    private static long idleBytes, reserved, peakReserved, hits, trimmed, grown, misses, returned;

    static {
        Linker linker = Linker.nativeLinker();
        var libc = linker.defaultLookup();
        POSIX_MEMALIGN = linker.downcallHandle(libc.find("posix_memalign").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
        FREE = linker.downcallHandle(libc.find("free").orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
        MMAP = linker.downcallHandle(libc.find("mmap").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
        MUNMAP = linker.downcallHandle(libc.find("munmap").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
        // mremap is variadic (a fifth argument with MREMAP_FIXED, which is not used)
        MREMAP = libc.find("mremap").map(f -> linker.downcallHandle(f,
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_INT), Linker.Option.firstVariadicArg(4))).orElse(null);
        MADVISE = libc.find("madvise").map(f -> linker.downcallHandle(f,
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT))).orElse(null);
        long page = 4096;
        try {
            var getpagesize = libc.find("getpagesize");
            if (getpagesize.isPresent()) {
                page = (int) linker.downcallHandle(getpagesize.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT)).invokeExact();
            }
        } catch (Throwable t) {
            // keep 4 KiB
        }
        PAGE = page;
    }

    private NativeMemory() {
    }

    /** Allocates {@code bytes} (at least 1) of uninitialised, 64-byte aligned host memory. */
    public static MemorySegment allocate(long bytes) {
        if (bytes <= 0) throw new IllegalArgumentException("allocation of " + bytes + " bytes");
        long address = bytes >= LARGE && cacheLimit() > 0 ? allocateLarge(bytes) : system(bytes);
        long now = CURRENT.addAndGet(bytes);
        PEAK.accumulateAndGet(now, Math::max);
        ALLOCATIONS.incrementAndGet();
        return MemorySegment.ofAddress(address).reinterpret(bytes);
    }

    /** Frees a segment returned by {@link #allocate}: a large block goes to the cache. */
    public static void free(MemorySegment segment) {
        long address = segment.address();
        boolean cached;
        synchronized (NativeMemory.class) {
            Long size = LIVE_LARGE.remove(address);
            cached = size != null;
            if (cached) {
                IDLE_BY_SIZE.computeIfAbsent(size, k -> new ArrayDeque<>()).push(address);
                IDLE_BY_AGE.put(address, size);
                idleBytes += size;
                trimTo(limit);
            }
        }
        if (!cached) systemFree(address);
        CURRENT.addAndGet(-segment.byteSize());
    }

    /** A large block of at least {@code bytes}, by the policy at the top of the file. */
    private static synchronized long allocateLarge(long bytes) {
        long size = (bytes + PAGE - 1) / PAGE * PAGE;
        Map.Entry<Long, ArrayDeque<Long>> fit = IDLE_BY_SIZE.ceilingEntry(size);
        long address;
        if (fit != null) {
            long blockSize = fit.getKey();
            address = takeIdle(blockSize);
            if (blockSize <= size + size / 8) {
                hits++;
                size = blockSize;
            } else {
                unmap(address + size, blockSize - size);
                reserved -= blockSize - size;
                trimmed++;
            }
        } else if (!IDLE_BY_SIZE.isEmpty() && MREMAP != null) {
            long blockSize = IDLE_BY_SIZE.lastKey();
            long old = takeIdle(blockSize);
            address = remap(old, blockSize, size);
            if (address != MAP_FAILED) {
                reserved += size - blockSize;
                grown++;
            } else {
                unmap(old, blockSize);
                reserved -= blockSize;
                returned++;
                address = mapFresh(bytes, size);
            }
        } else {
            address = mapFresh(bytes, size);
        }
        LIVE_LARGE.put(address, size);
        peakReserved = Math.max(peakReserved, reserved);
        return address;
    }

    /** Takes the last freed idle block of {@code size} out of the cache (its bytes stay reserved). */
    private static long takeIdle(long size) {
        long address = IDLE_BY_SIZE.get(size).peek();
        forgetIdle(address, size);
        return address;
    }

    /** Removes an idle block from the cache's two indexes and its idle count. */
    private static void forgetIdle(long address, long size) {
        ArrayDeque<Long> same = IDLE_BY_SIZE.get(size);
        same.remove(address);
        if (same.isEmpty()) IDLE_BY_SIZE.remove(size);
        IDLE_BY_AGE.remove(address);
        idleBytes -= size;
    }

    private static long mapFresh(long requested, long size) {
        misses++;
        long address = map(size);
        if (address == MAP_FAILED) {
            trimTo(0);
            address = map(size);
            if (address == MAP_FAILED) {
                throw new OutOfMemoryError("cannot allocate " + requested + " bytes of host memory for a tensor (mmap of "
                        + size + " bytes failed; " + (reserved >> 20) + " MiB held for tensors)");
            }
        }
        reserved += size;
        return address;
    }

    /** Returns the oldest idle blocks to the system until at most {@code bytes} stay idle. */
    private static void trimTo(long bytes) {
        while (idleBytes > bytes) {
            var oldest = IDLE_BY_AGE.firstEntry();
            long address = oldest.getKey(), size = oldest.getValue();
            forgetIdle(address, size);
            reserved -= size;
            returned++;
            unmap(address, size);
        }
    }

    /** Returns every idle block of the cache to the system. */
    public static synchronized void emptyCache() {
        trimTo(0);
    }

    /** The most idle bytes the cache keeps ({@code ADVINTERP_HOST_CACHE}); 0 when it is off. */
    public static synchronized long cacheLimit() {
        if (limit < 0) limit = parseLimit(EngineConfig.current().hostCache(), physicalMemory());
        return limit;
    }

    /** Sets the most idle bytes the cache keeps (0 turns it off), returning idle blocks past it at once; for tests and long programs. */
    public static synchronized void cacheLimit(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("host cache limit " + bytes + " bytes");
        limit = bytes;
        trimTo(bytes);
    }

    /**
     * The cache limit a setting gives: {@code auto} a quarter of {@code physical}, {@code none} or
     * {@code 0} off, else a size in bytes with an optional k, m or g suffix (powers of 1024).
     *
     * @throws IllegalArgumentException naming the knob for anything else
     */
    public static long parseLimit(String setting, long physical) {
        String s = setting.strip().toLowerCase(Locale.ROOT);
        if (s.equals("auto")) return physical / 4;
        if (s.equals("none") || s.equals("off")) return 0;
        long unit = switch (s.isEmpty() ? ' ' : s.charAt(s.length() - 1)) {
            case 'k' -> 1L << 10;
            case 'm' -> 1L << 20;
            case 'g' -> 1L << 30;
            default -> 1;
        };
        String digits = unit == 1 ? s : s.substring(0, s.length() - 1);
        try {
            long v = Long.parseLong(digits.strip());
            if (v >= 0) return Math.multiplyExact(v, unit);
        } catch (NumberFormatException | ArithmeticException e) {
            // fall through to the error
        }
        throw new IllegalArgumentException("ADVINTERP_HOST_CACHE must be auto, none or a size such as 2g or 512m, got '" + setting + "'");
    }

    /** MemTotal of /proc/meminfo, or 8 GiB where there is none. */
    static long physicalMemory() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux, or an unexpected format: the fallback below
        }
        return 8L << 30;
    }

    /** The caching allocator's counters at one moment. */
    public record CacheStats(long limit, long idleBytes, long reservedBytes, long peakReservedBytes, long hits, long trimmed,
                             long grown, long misses, long returnedBlocks) {
        /** One line for {@code doctor} and the memory report. */
        public String describe() {
            return String.format(Locale.ROOT, "limit %d MiB, %d MiB idle, %d MiB reserved (peak %d MiB); %d hits, %d trimmed,"
                            + " %d grown, %d misses, %d blocks returned",
                    limit >> 20, idleBytes >> 20, reservedBytes >> 20, peakReservedBytes >> 20, hits, trimmed, grown, misses,
                    returnedBlocks);
        }
    }

    public static synchronized CacheStats cacheStats() {
        return new CacheStats(cacheLimit(), idleBytes, reserved, peakReserved, hits, trimmed, grown, misses, returned);
    }

    /** Bytes of tensor memory in use now, as requested. */
    public static long currentBytes() {
        return CURRENT.get();
    }

    /** Bytes of large blocks held from the system now, live and idle (small blocks are glibc's). */
    public static synchronized long reservedBytes() {
        return reserved;
    }

    /** Highest {@link #currentBytes()} since the start or the last {@link #resetPeak()}. */
    public static long peakBytes() {
        return PEAK.get();
    }

    /** Number of allocations made since the start. */
    public static long allocations() {
        return ALLOCATIONS.get();
    }

    /** Starts a new peak measurement from the current use. */
    public static void resetPeak() {
        PEAK.set(CURRENT.get());
        synchronized (NativeMemory.class) {
            peakReserved = reserved;
        }
    }

    /** Asks for transparent huge pages over [address, address + bytes); a refusal only costs the 4 KiB faults. */
    private static void adviseHugePages(long address, long bytes) {
        if (MADVISE == null) return;
        try {
            int ignored = (int) MADVISE.invokeExact(MemorySegment.ofAddress(address), bytes, MADV_HUGEPAGE);
        } catch (Throwable t) {
            // advice only
        }
    }

    private static long system(long bytes) {
        int rc;
        MemorySegment address;
        try (var arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            rc = (int) POSIX_MEMALIGN.invokeExact(out, ALIGNMENT, bytes);
            address = out.get(ValueLayout.ADDRESS, 0);
        } catch (Throwable t) {
            throw new IllegalStateException("posix_memalign failed", t);
        }
        if (rc != 0 || address.address() == 0) {
            throw new OutOfMemoryError("cannot allocate " + bytes + " bytes of host memory for a tensor (posix_memalign returned "
                    + rc + ")");
        }
        return address.address();
    }

    /** A fresh mapping of {@code size} bytes starting on a 2 MiB boundary, advised for huge pages; MAP_FAILED if none. */
    private static long map(long size) {
        long span = size + HUGE_PAGE - PAGE;
        long base;
        try {
            base = (long) MMAP.invokeExact(0L, span, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0L);
        } catch (Throwable t) {
            throw new IllegalStateException("mmap failed", t);
        }
        if (base == MAP_FAILED) return MAP_FAILED;
        long start = (base + HUGE_PAGE - 1) & -HUGE_PAGE;
        if (start > base) unmap(base, start - base);
        if (base + span > start + size) unmap(start + size, base + span - start - size);
        adviseHugePages(start, size);
        return start;
    }

    /** {@code address}'s mapping resized to {@code size}, perhaps moved; MAP_FAILED if the kernel refuses. */
    private static long remap(long address, long oldSize, long size) {
        try {
            return (long) MREMAP.invokeExact(address, oldSize, size, MREMAP_MAYMOVE);
        } catch (Throwable t) {
            throw new IllegalStateException("mremap failed", t);
        }
    }

    private static void unmap(long address, long size) {
        int rc;
        try {
            rc = (int) MUNMAP.invokeExact(address, size);
        } catch (Throwable t) {
            throw new IllegalStateException("munmap failed", t);
        }
        if (rc != 0) {
            throw new IllegalStateException("munmap of " + size + " bytes at 0x" + Long.toHexString(address) + " failed");
        }
    }

    private static void systemFree(long address) {
        try {
            FREE.invokeExact(MemorySegment.ofAddress(address));
        } catch (Throwable t) {
            throw new IllegalStateException("free failed", t);
        }
    }
}
