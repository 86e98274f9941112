package dev.advinterp.engine.backend.cuda;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A {@link DeviceRuntime} on host memory whose kernel launches run the project's CUDA C on the
 * CPU: kernels/src/main/cuda/*.cu compiled unchanged by g++ with the stand-ins of
 * kernels/src/test/host (see host_launch.cpp for how blocks, threads and barriers are run), its
 * table of kernels made from their declarations ({@link #writeKernelTable}). It
 * lets {@link CudaBackend}'s kernel paths (the argument lists, grids, scratch buffers and the host
 * side of the reductions) run, and be compared with the CPU backend, on a machine without a GPU.
 *
 * <p>"Device" memory is aligned host memory from {@code aligned_alloc} (256 bytes, as
 * cuMemAlloc), counted against a capacity so that out-of-memory paths can be tested, and followed
 * by guard bytes that are checked after every launch and at free: a kernel writing past the end of
 * a block the runtime handed out fails the launch. (The caching allocator cuts many tensors out of
 * one such block; an overrun into a neighbouring tensor is not caught here but by the comparison
 * with the CPU.) Every pointer argument must point into an allocated block. Calls are synchronous.
 */
public final class HostKernelRuntime implements DeviceRuntime {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle ALIGNED_ALLOC = LINKER.downcallHandle(
            LINKER.defaultLookup().find("aligned_alloc").orElseThrow(), FunctionDescriptor.of(ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle FREE = LINKER.downcallHandle(
            LINKER.defaultLookup().find("free").orElseThrow(), FunctionDescriptor.ofVoid(ADDRESS));

    private static Optional<String> unavailable;
    private static MethodHandle launch, error, has;

    private final long capacity;
    private final Map<Long, Long> live = new HashMap<>();
    private long used;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment values = arena.allocate(8L * CudaDriver.MAX_KERNEL_ARGS, 8);
    private final MemorySegment pointers = arena.allocate(8L * CudaDriver.MAX_KERNEL_ARGS, 8);
    private final Map<String, MemorySegment> names = new HashMap<>();
    private int launches;
    private int synchronizations;

    private HostKernelRuntime(long capacity) {
        this.capacity = capacity;
    }

    /** Why the kernels cannot run on this host (no g++, a compile error), or empty; compiles once per process. */
    public static synchronized Optional<String> unavailableReason() {
        if (unavailable == null) unavailable = build();
        return unavailable;
    }

    /** A CUDA backend without cuBLAS and cuDNN over a fresh host runtime of {@code capacity} bytes. */
    public static CudaBackend openBackend(long capacity) {
        return CudaBackend.withoutLibraries(open(capacity));
    }

    /** A CUDA backend without cuBLAS and cuDNN over {@code rt}. */
    public static CudaBackend backendOver(HostKernelRuntime rt) {
        return CudaBackend.withoutLibraries(rt);
    }

    public static HostKernelRuntime open(long capacity) {
        Optional<String> why = unavailableReason();
        if (why.isPresent()) throw new IllegalStateException("the CUDA kernels cannot run on this host: " + why.get());
        return new HostKernelRuntime(capacity);
    }

    /** kernels/ from the engine module (Maven's working directory) or from the repository root. */
    static Optional<Path> kernelsFolder() {
        return Stream.of(Path.of("..", "kernels"), Path.of("kernels"))
                .filter(p -> Files.isDirectory(p.resolve("src/test/host"))).findFirst();
    }

    /**
     * The two files host_launch.cpp includes, made from the kernels' declarations
     * ({@link KernelTable}): {@code kernel_sources.inc}, an include of each .cu file that declares a
     * kernel (in name order, as kernels/build.sh compiles them), and {@code kernel_table.inc}, one
     * {@code ADV_KERNEL(name, barriers)} per kernel. Written into {@code dir}.
     */
    static void writeKernelTable(Path dir) throws IOException {
        Files.createDirectories(dir);
        String header = "// Made from the kernel declarations (dev.advinterp.engine.backend.cuda.KernelTable) by HostKernelRuntime.\n";
        StringBuilder sources = new StringBuilder(header), table = new StringBuilder(header);
        KernelTable.ALL.stream().map(Kernel::source).distinct().sorted().forEach(f -> sources.append("#include \"").append(f).append("\"\n"));
        for (Kernel k : KernelTable.ALL) table.append("ADV_KERNEL(").append(k.name()).append(", ").append(k.barriers()).append("),\n");
        Files.writeString(dir.resolve("kernel_sources.inc"), sources);
        Files.writeString(dir.resolve("kernel_table.inc"), table);
    }

    /**
     * Compiles {@code sources} of kernels/src/test/host (host_launch.cpp holds the kernels, with the
     * table {@link #writeKernelTable} makes) into the shared library {@code out}: empty, or why it
     * could not be done (no kernels folder, no g++). A compile error is an exception: the sources
     * are the project's.
     */
    static Optional<String> compile(Path out, List<String> sources, List<String> extraFlags) {
        Optional<Path> kernels = kernelsFolder();
        if (kernels.isEmpty()) return Optional.of("kernels/src/test/host not found from " + Path.of("").toAbsolutePath());
        Path host = kernels.get().resolve("src/test/host").toAbsolutePath(), cuda = kernels.get().resolve("src/main/cuda").toAbsolutePath();
        try {
            Files.createDirectories(out.getParent());
            Path generated = out.resolveSibling(out.getFileName() + ".generated");
            writeKernelTable(generated);
            List<String> cmd = new ArrayList<>(List.of("g++", "-std=c++17", "-O2", "-fPIC", "-shared",
                    // no contraction into fused multiply-adds, as the GPU build (--fmad=false)
                    "-ffp-contract=off", "-fno-fast-math", "-Wall", "-Wno-unknown-pragmas",
                    "-I" + generated, "-I" + cuda, "-I" + host));
            cmd.addAll(extraFlags);
            for (String src : sources) cmd.add(host.resolve(src).toString());
            cmd.addAll(List.of("-o", out.toString()));
            Path logFile = out.resolveSibling(out.getFileName() + ".log");
            Process p;
            try {
                p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logFile.toFile()).start();
            } catch (IOException e) {
                return Optional.of("g++ could not be started (" + e.getMessage() + "); install g++ to run the kernels on the CPU");
            }
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return Optional.of("g++ took more than 120 s");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed:\n" + Files.readString(logFile));
            }
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of("compiling " + out.getFileName() + " failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("interrupted while compiling " + out.getFileName());
        }
    }

    private static Optional<String> build() {
        Path out = Path.of("target", "kernels-host", "libadvinterp_kernels_host.so").toAbsolutePath();
        Optional<String> why = compile(out, List.of("host_launch.cpp"), List.of());
        if (why.isPresent()) return why;
        SymbolLookup lib = SymbolLookup.libraryLookup(out, Arena.global());
        launch = LINKER.downcallHandle(lib.find("adv_host_launch").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
        error = LINKER.downcallHandle(lib.find("adv_host_error").orElseThrow(), FunctionDescriptor.of(ADDRESS));
        has = LINKER.downcallHandle(lib.find("adv_host_has").orElseThrow(), FunctionDescriptor.of(JAVA_INT, ADDRESS));
        return Optional.empty();
    }

    /** Whether the harness has kernel {@code name}. */
    public boolean has(String name) {
        try {
            return (int) has.invokeExact(name(name)) == 1;
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("adv_host_has", t);
        }
    }

    private MemorySegment name(String kernel) {
        return names.computeIfAbsent(kernel, arena::allocateFrom);
    }

    /** Blocks allocated and not freed, and their bytes. */
    public synchronized long liveBlocks() {
        return live.size();
    }

    public synchronized long liveBytes() {
        return used;
    }

    /** Kernel launches so far. */
    public int launches() {
        return launches;
    }

    /** Waits for the stream so far (calls are synchronous here; the count shows who waits). */
    public int synchronizations() {
        return synchronizations;
    }

    private static MemorySegment at(long address, long bytes) {
        return MemorySegment.ofAddress(address).reinterpret(bytes);
    }

    @Override
    public void bindThread() {
    }

    @Override
    public void synchronize() {
        synchronizations++;
    }

    @Override
    public synchronized long malloc(long bytes) {
        if (bytes <= 0) throw new IllegalArgumentException("malloc of " + bytes + " bytes");
        if (used + bytes > capacity) return 0L;
        long rounded = (bytes + GUARD + 255) & ~255L;
        long address;
        try {
            address = ((MemorySegment) ALIGNED_ALLOC.invokeExact(256L, rounded)).address();
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("aligned_alloc", t);
        }
        if (address == 0) throw new OutOfMemoryError("aligned_alloc(" + rounded + ") failed");
        at(address + bytes, rounded - bytes).fill(GUARD_BYTE);
        live.put(address, bytes);
        used += bytes;
        return address;
    }

    /** Bytes after each block that must keep {@link #GUARD_BYTE}. */
    private static final long GUARD = 256;
    private static final byte GUARD_BYTE = (byte) 0xa5;

    /** The first guard byte after the block that was overwritten, or -1. */
    private static long brokenGuard(long address, long bytes) {
        MemorySegment guard = at(address + bytes, GUARD);
        for (long i = 0; i < GUARD; i++) {
            if (guard.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i) != GUARD_BYTE) return i;
        }
        return -1;
    }

    /** Throws when anything wrote into the guard bytes after a block. */
    private synchronized void checkGuards(String after) {
        for (Map.Entry<Long, Long> e : live.entrySet()) {
            long i = brokenGuard(e.getKey(), e.getValue());
            if (i >= 0) {
                throw new IllegalStateException(after + " wrote past the end of the block of " + e.getValue()
                        + " bytes at 0x" + Long.toHexString(e.getKey()) + " (guard byte " + i + ")");
            }
        }
    }

    /** Releases the block; one whose guard was overwritten is released too, then reported. */
    @Override
    public synchronized void free(long address) {
        Long bytes = live.remove(address);
        if (bytes == null) throw new IllegalStateException("free of " + Long.toHexString(address) + ", which is not allocated");
        long broken = brokenGuard(address, bytes);
        used -= bytes;
        try {
            FREE.invokeExact(MemorySegment.ofAddress(address));
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("free", t);
        }
        if (broken >= 0) {
            throw new IllegalStateException("the block of " + bytes + " bytes at 0x" + Long.toHexString(address)
                    + " was written past its end (guard byte " + broken + ")");
        }
    }

    @Override
    public MemorySegment mallocHost(long bytes) {
        return arena.allocate(bytes, 4096);
    }

    @Override
    public void freeHost(MemorySegment host) {
        // released with the arena
    }

    private synchronized void checkRange(String op, long address, long bytes) {
        for (Map.Entry<Long, Long> e : live.entrySet()) {
            if (address >= e.getKey() && address + bytes <= e.getKey() + e.getValue()) return;
        }
        throw new IllegalStateException(op + ": [" + Long.toHexString(address) + ", +" + bytes + ") is not inside one allocated block");
    }

    @Override
    public void copyToDevice(long dst, MemorySegment src, long bytes) {
        checkRange("copyToDevice", dst, bytes);
        MemorySegment.copy(src, 0, at(dst, bytes), 0, bytes);
    }

    @Override
    public void copyToHost(MemorySegment dst, long src, long bytes) {
        checkRange("copyToHost", src, bytes);
        MemorySegment.copy(at(src, bytes), 0, dst, 0, bytes);
    }

    @Override
    public void copyOnDevice(long dst, long src, long bytes) {
        checkRange("copyOnDevice (destination)", dst, bytes);
        checkRange("copyOnDevice (source)", src, bytes);
        MemorySegment.copy(at(src, bytes), 0, at(dst, bytes), 0, bytes);
    }

    @Override
    public void fill32(long dst, int bits, long count) {
        checkRange("fill32", dst, count * 4);
        MemorySegment s = at(dst, count * 4);
        for (long i = 0; i < count; i++) s.setAtIndex(JAVA_INT, i, bits);
    }

    /** Synchronised on the class: the native launcher's state (block and thread indices, fibers) is global. */
    @Override
    public void launch(String kernel, int grid, int block, KernelArgs args) {
        synchronized (HostKernelRuntime.class) {
            launchLocked(kernel, grid, block, args);
        }
        checkGuards("kernel " + kernel);
    }

    private void launchLocked(String kernel, int grid, int block, KernelArgs args) {
        for (int i = 0; i < args.count(); i++) {
            if (args.kind(i) == KernelArgs.Kind.POINTER && args.bits(i) != 0) checkRange(kernel + " argument " + i, args.bits(i), 1);
        }
        args.writeTo(values, pointers);
        int rc;
        String text;
        try {
            rc = (int) launch.invokeExact(name(kernel), grid, block, pointers);
            text = rc == 0 ? "" : ((MemorySegment) error.invokeExact()).reinterpret(512).getString(0);
        } catch (Throwable t) {
            throw NativeLibrary.rethrow("adv_host_launch", t);
        }
        launches++;
        if (rc != 0) throw new CudaException("host kernels", "launch of " + kernel, rc, text, null);
    }

    @Override
    public MemorySegment stream() {
        return MemorySegment.NULL;
    }

    @Override
    public String describe() {
        return "CUDA kernels run on the CPU (g++ build of kernels/src/main/cuda, host memory)";
    }

    @Override
    public void close() {
    }
}
