package dev.advinterp.engine;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * A float32 tensor: an immutable {@link Shape}, contiguous row-major (NCHW) storage off the Java
 * heap, and an owning {@link Scope}. Reshaping shares the storage; nothing else is a view.
 *
 * <p>Tensors are made by the factories here, on the device of the current {@link Scope}, and by
 * {@link Ops}, on the device of their inputs. A tensor is freed when its scope closes or when
 * {@link #close()} is called; any later use throws {@link IllegalStateException}.
 *
 * <p>A tensor knows its {@link DeviceMemory} and nothing of the backends that compute on it: ops
 * find the backend from the memory, so this class sits below every backend.
 */
public final class Tensor implements AutoCloseable {
    private final Shape shape;
    private final Storage storage;
    private final String origin;
    private Scope owner;
    private boolean closed;
    private boolean requiresGrad;
    /**
     * Autograd bookkeeping: the {@link Tape} that tracks this tensor, if any (typed Object so that the
     * tensor does not depend on autograd, which sits above the backends).
     */
    Object tape;

    private Tensor(Shape shape, Storage storage, String origin) {
        this.shape = shape;
        this.storage = storage;
        this.origin = origin;
        Scope s = Scope.current();
        s.add(this);
        this.owner = s;
    }

    // ---------------------------------------------------------------- factories

    /** An uninitialised tensor in {@code memory}; every kernel that returns one writes all of it. */
    public static Tensor empty(DeviceMemory memory, Shape shape, String origin) {
        if (shape.numel() > Long.MAX_VALUE / Float.BYTES) {
            // numel·4 would wrap around to a small allocation that the tensor then overruns
            throw new IllegalArgumentException(origin + ": shape " + shape + " has " + shape.numel()
                    + " elements; their size in bytes does not fit in a long");
        }
        return new Tensor(shape, new Storage(memory, shape.numel() * Float.BYTES), origin);
    }

    /** An uninitialised tensor on the same device as {@code like}. */
    public static Tensor empty(Shape shape, Tensor like, String origin) {
        return empty(like.memory(), shape, origin);
    }

    public static Tensor zeros(Shape shape) {
        return full(shape, 0f);
    }

    public static Tensor zeros(int... dims) {
        return zeros(Shape.of(dims));
    }

    /** A tensor of {@code value}s on the current scope's device. */
    public static Tensor full(Shape shape, float value) {
        Tensor t = empty(Scope.current().memory(), shape, "full");
        t.memory().fillFloats(t.storage.segment(), t.numel(), value);
        return t;
    }

    /** A tensor on the current scope's device holding a copy of {@code data}, whose length must equal the shape's size. */
    public static Tensor of(float[] data, int... dims) {
        Shape shape = Shape.of(dims);
        if (data.length != shape.numel()) {
            throw new IllegalArgumentException("Tensor.of: " + data.length + " values do not fill shape " + shape
                    + " (" + shape.numel() + " elements)");
        }
        Tensor t = empty(Scope.current().memory(), shape, "of");
        t.memory().writeFloats(data, 0, t.storage.segment(), 0, data.length);
        return t;
    }

    /** Standard normal values times {@code std}, from {@code seed} (the same seed gives the same bits). */
    public static Tensor randn(long seed, float std, int... dims) {
        SplittableRandom r = new SplittableRandom(seed);
        return generated(Shape.of(dims), "randn", () -> (float) (gaussian(r) * std));
    }

    /** Uniform values in [lo, hi) from {@code seed}. */
    public static Tensor rand(long seed, float lo, float hi, int... dims) {
        SplittableRandom r = new SplittableRandom(seed);
        return generated(Shape.of(dims), "rand", () -> lo + (hi - lo) * (float) r.nextDouble());
    }

    /** Values drawn per element, in this many at a time: a 64 KiB buffer, so that no Java array holds a whole tensor. */
    private static final int GENERATE_CHUNK = 1 << 14;

    /**
     * A tensor on the current scope's device filled in element order from {@code next}, through a
     * small buffer: a model's initial weights (VGG-16's 138 M) then never pass through Java arrays of
     * their size, which would grow the Java heap by as much and keep it so.
     */
    private static Tensor generated(Shape shape, String origin, FloatSupplier next) {
        arrayLength(shape, origin); // the generators' limit stays that of a Java array, checked before anything is allocated
        Tensor t = empty(Scope.current().memory(), shape, origin);
        long n = shape.numel();
        float[] buffer = new float[(int) Math.min(n, GENERATE_CHUNK)];
        for (long done = 0; done < n; ) {
            int k = (int) Math.min(buffer.length, n - done);
            for (int i = 0; i < k; i++) buffer[i] = next.next();
            t.memory().writeFloats(buffer, 0, t.storage.segment(), done * Float.BYTES, k);
            done += k;
        }
        return t;
    }

    @FunctionalInterface
    private interface FloatSupplier {
        float next();
    }

    /** The length of a Java array holding {@code shape}'s values, or an exception naming the shape. */
    private static int arrayLength(Shape shape, String what) {
        if (shape.numel() > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(what + ": shape " + shape + " has " + shape.numel()
                    + " elements, more than a Java array holds");
        }
        return (int) shape.numel();
    }

    private static double gaussian(SplittableRandom r) {
        // Box-Muller on the generator's doubles: portable and reproducible across JDKs.
        double u1 = r.nextDouble(), u2 = r.nextDouble();
        return Math.sqrt(-2.0 * Math.log(1.0 - u1)) * Math.cos(2.0 * Math.PI * u2);
    }

    // ---------------------------------------------------------------- accessors

    public Shape shape() {
        return shape;
    }

    public int dim(int i) {
        return shape.dim(i);
    }

    public int rank() {
        return shape.rank();
    }

    public long numel() {
        return shape.numel();
    }

    /** The device memory that holds this tensor (see {@link DeviceMemory#home()}). */
    public DeviceMemory memory() {
        return storage.memory();
    }

    public Device device() {
        return storage.memory().device();
    }

    /** What made this tensor (an op name), for error messages. */
    public String origin() {
        return origin;
    }

    /**
     * The storage's memory, after checking that the tensor is alive. On the CPU it is the data
     * itself; on a GPU its address is the device pointer. Kernels take it once per call.
     */
    public MemorySegment segment() {
        checkLive("access");
        return storage.segment();
    }

    /**
     * The storage's memory as its bytes are stored, which may be channels-last
     * ({@link #storedLayout()}): for the kernels that read that layout; everyone else takes
     * {@link #segment()}, which brings the bytes into row-major order first.
     */
    public MemorySegment segmentAsStored() {
        checkLive("access");
        return storage.segmentAsStored();
    }

    /** The channels-last layout the storage's bytes are in, or null when they are row-major (see {@link ChannelsLast}). */
    public ChannelsLast storedLayout() {
        return storage.layout();
    }

    /** Records that a kernel has just written the whole storage in this layout (null: row-major). */
    public void storeAs(ChannelsLast layout) {
        checkLive("storeAs");
        storage.storedAs(layout);
    }

    public Storage storage() {
        return storage;
    }

    /** Whether gradients flow to this tensor whenever a {@link Tape} is recording (parameters). */
    public boolean requiresGrad() {
        return requiresGrad;
    }

    public Tensor requiresGrad(boolean value) {
        this.requiresGrad = value;
        return this;
    }

    public boolean isClosed() {
        return closed || !storage.isLive();
    }

    Scope owner() {
        return owner;
    }

    void setOwner(Scope s) {
        owner = s;
    }

    void checkLive(String what) {
        if (closed || !storage.isLive()) {
            throw new IllegalStateException("tensor " + shape + " (made by " + origin + ") used after it was closed: " + what
                    + "; keep it with Scope.keep(...) if it must outlive its scope");
        }
    }

    // ---------------------------------------------------------------- data out

    /** A copy of the values as a Java array. */
    public float[] toArray() {
        checkLive("toArray");
        float[] out = new float[arrayLength(shape, "toArray")];
        memory().readFloats(storage.segment(), 0, out, 0, out.length);
        return out;
    }

    /** The single value of a one-element tensor. */
    public float item() {
        if (numel() != 1) throw new IllegalStateException("item() of a tensor of shape " + shape + "; it needs exactly one element");
        return toArray()[0];
    }

    /** Value at flat index {@code i} (slow path, for tests and inspection). */
    public float get(long i) {
        checkLive("get");
        if (i < 0 || i >= numel()) throw new IndexOutOfBoundsException("index " + i + " in tensor " + shape);
        if (device() == Device.CPU) return storage.segment().getAtIndex(ValueLayout.JAVA_FLOAT, i);
        return toArray()[(int) i];
    }

    /** A copy of this tensor's data on its device, in a new tensor of the current scope (stored in the same layout). */
    public Tensor copy() {
        checkLive("copy");
        Tensor t = empty(memory(), shape, "copy");
        ChannelsLast layout = storage.layout();
        if (layout != null) {
            memory().copyBytes(storage.segmentAsStored(), 0, t.storage.segmentAsStored(), 0, numel() * Float.BYTES);
            t.storage.storedAs(layout);
        } else {
            memory().copyBytes(storage.segment(), 0, t.storage.segment(), 0, numel() * Float.BYTES);
        }
        return t;
    }

    /** Copies {@code src}'s values into this tensor (same number of elements, same device). */
    public void copyFrom(Tensor src) {
        if (src.numel() != numel()) {
            checkLive("copyFrom");
            src.checkLive("copyFrom");
            throw new IllegalArgumentException("copyFrom: source " + src.shape + " and destination " + shape + " differ in size");
        }
        copyFrom(src, 0, 0, numel());
    }

    /**
     * Copies {@code count} values of {@code src} from element {@code srcOffset} into this tensor
     * from element {@code dstOffset}, on their device (one image of a batch, say).
     */
    public void copyFrom(Tensor src, long srcOffset, long dstOffset, long count) {
        checkLive("copyFrom");
        src.checkLive("copyFrom");
        if (src.memory() != memory()) {
            throw new IllegalArgumentException("copyFrom: source " + src.shape + " is on " + src.memory().describe()
                    + ", destination " + shape + " on " + memory().describe() + "; copy through the host (toArray, Tensor.of)");
        }
        // compared as count > numel − offset: offset + count could overflow
        if (count < 0 || srcOffset < 0 || dstOffset < 0 || srcOffset > src.numel() || dstOffset > numel()
                || count > src.numel() - srcOffset || count > numel() - dstOffset) {
            throw new IllegalArgumentException("copyFrom: " + count + " values from element " + srcOffset + " of " + src.shape
                    + " to element " + dstOffset + " of " + shape + " do not fit");
        }
        if (count > 0) {
            memory().copyBytes(src.storage.segment(), srcOffset * Float.BYTES, storage.segment(), dstOffset * Float.BYTES,
                    count * Float.BYTES);
        }
    }

    /** A new tensor with another shape over the same storage (no autograd; {@link Ops#reshape} records). */
    Tensor view(Shape newShape) {
        return view(newShape, "reshape");
    }

    /** As {@link #view(Shape)}, the new tensor made by {@code origin}. */
    Tensor view(Shape newShape, String origin) {
        checkLive(origin);
        if (newShape.numel() != numel()) {
            throw new IllegalArgumentException("reshape " + shape + " to " + newShape + ": element counts differ ("
                    + numel() + " vs " + newShape.numel() + ")");
        }
        storage.retain();
        return new Tensor(newShape, storage, origin);
    }

    /** Frees this tensor now (its storage goes when no reshaped view uses it). Idempotent. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        Scope s = owner;
        if (s != null) s.remove(this);
        storage.release();
    }

    void freeFromScope() {
        if (closed) return;
        closed = true;
        storage.release();
    }

    @Override
    public String toString() {
        return "Tensor" + shape + (closed ? " (closed)" : "") + " from " + origin;
    }
}
