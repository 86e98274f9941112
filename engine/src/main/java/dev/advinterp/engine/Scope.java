package dev.advinterp.engine;

import dev.advinterp.engine.memory.HostMemory;

import java.util.ArrayList;
import java.util.LinkedHashSet;

/**
 * An explicit lifetime for tensors.
 *
 * <pre>{@code
 * try (var s = Scope.open()) {
 *     Tensor h = Ops.relu(Ops.linear(x, w, b));
 *     return s.keep(Ops.sum(h));   // survives: moved to the enclosing scope
 * }                                // everything else made inside is freed here
 * }</pre>
 *
 * <p>Every tensor is created in the current scope of its thread: the innermost open scope, or the
 * thread-independent root scope when none is open (the root is never closed by itself; long-lived
 * tensors such as parameters belong in a {@link #detached} scope instead). Closing a scope frees
 * its tensors; using a freed tensor is an {@link IllegalStateException}, never a crash.
 *
 * <p>A scope also names the device its tensors are made on, as DJL's {@code NDManager} does: the
 * factories ({@code Tensor.of}, {@code zeros}, {@code rand}, ...) allocate in the current scope's
 * {@link #memory()}. {@link #open()} keeps the enclosing scope's device, {@link #open(DeviceMemory)}
 * names another, so that one program can hold tensors on two devices on purpose:
 *
 * <pre>{@code
 * try (var onGpu = Scope.open(Backends.cuda())) {
 *     Tensor x = Tensor.rand(1, 0f, 1f, 8, 3, 32, 32);   // on the GPU
 * }
 * }</pre>
 *
 * The root scope's device is the program's choice ({@link #useRootDevice}: the command line's
 * {@code --device} through {@code Backends.useDevice}); until one is made it is the host's memory,
 * unless {@code advinterp.device} asks for another device, which only {@code Backends} can open.
 */
public final class Scope implements AutoCloseable {
    private static final Scope ROOT = new Scope(null, "root", false, null);
    private static final ThreadLocal<Scope> CURRENT = new ThreadLocal<>();

    private static volatile DeviceMemory rootMemory;

    private final Scope parent;
    private final String name;
    private final boolean onStack;
    /** Where the factories allocate while this scope is current; null for the root and detached scopes (see {@link #memory()}). */
    private final DeviceMemory memory;
    private final LinkedHashSet<Tensor> tensors = new LinkedHashSet<>();
    private boolean closed;

    private Scope(Scope parent, String name, boolean onStack, DeviceMemory memory) {
        this.parent = parent;
        this.name = name;
        this.onStack = onStack;
        this.memory = memory;
    }

    /** Opens a scope nested in the current one, on the same device, and makes it current on this thread. */
    public static Scope open() {
        return open(current().memory());
    }

    /** Opens a scope nested in the current one whose tensors are made in {@code memory}, and makes it current. */
    public static Scope open(DeviceMemory memory) {
        if (memory == null) throw new IllegalArgumentException("Scope.open: the device memory is null");
        Scope parent = current();
        Scope s = new Scope(parent, "scope", true, memory);
        CURRENT.set(s);
        return s;
    }

    /**
     * A scope that is not on the thread's stack, for tensors that outlive any block of code
     * (a model's parameters and optimiser state). Tensors enter it by {@link #adopt}.
     */
    public static Scope detached(String name) {
        return new Scope(ROOT, name, false, null);
    }

    /** The innermost open scope of this thread, or the root scope. */
    public static Scope current() {
        Scope s = CURRENT.get();
        return s == null ? ROOT : s;
    }

    /** The scope that never closes by itself. */
    public static Scope root() {
        return ROOT;
    }

    public String name() {
        return name;
    }

    /**
     * The device memory the factories allocate in while this scope is current. For the root (and a
     * detached scope, which is never current): the one {@link #useRootDevice} chose, else the host's.
     *
     * @throws IllegalStateException for the root when none was chosen and {@code advinterp.device}
     *                               asks for a device other than the CPU
     */
    public DeviceMemory memory() {
        if (memory != null) return memory;
        DeviceMemory m = rootMemory;
        if (m != null) return m;
        String word = EngineConfig.current().deviceWord();
        if (!word.equals("cpu")) {
            throw new IllegalStateException(EngineConfig.DEVICE_PROPERTY + "=" + word + " asks for a device that no program has opened"
                    + " yet: call Backends.defaultBackend() (or Backends.useDevice) before making tensors, as the command line does");
        }
        return HostMemory.INSTANCE;
    }

    /**
     * Makes {@code memory} the root scope's device: the device of every tensor made outside an
     * open scope, and of the scopes opened on a thread without one. Call it before allocating
     * anything; tensors made before keep their device.
     */
    public static void useRootDevice(DeviceMemory memory) {
        if (memory == null) throw new IllegalArgumentException("useRootDevice: the device memory is null");
        rootMemory = memory;
    }

    /** Whether a program chose the root scope's device ({@link #useRootDevice}). */
    public static boolean rootDeviceChosen() {
        return rootMemory != null;
    }

    /** Moves {@code t} into the enclosing scope (or the root), so that it outlives this one. */
    public <T extends Tensor> T keep(T t) {
        Scope target = parent == null ? ROOT : parent;
        // a detached scope's parent is the root; keeping from it is the same as detaching to the root
        target.adopt(t);
        return t;
    }

    /** Moves {@code t} into this scope from wherever it was. */
    public <T extends Tensor> T adopt(T t) {
        t.checkLive("adopt");
        Scope old = t.owner();
        if (old == this) return t;
        add(t); // first: if this scope is closed the tensor stays where it was instead of belonging nowhere
        if (old != null) old.remove(t);
        t.setOwner(this);
        return t;
    }

    synchronized void add(Tensor t) {
        if (closed) {
            throw new IllegalStateException("scope '" + name + "' is closed; a tensor " + t.shape() + " cannot be created or moved into it");
        }
        tensors.add(t);
    }

    synchronized void remove(Tensor t) {
        tensors.remove(t);
    }

    /** Number of live tensors owned by this scope. */
    public synchronized int size() {
        return tensors.size();
    }

    public synchronized boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        if (this == ROOT) throw new IllegalStateException("the root scope cannot be closed");
        ArrayList<Tensor> toFree;
        synchronized (this) {
            if (closed) return;
            if (onStack && CURRENT.get() != this) {
                throw new IllegalStateException("scopes must be closed innermost first (try-with-resources does this); '"
                        + name + "' is not the current scope of this thread");
            }
            closed = true;
            toFree = new ArrayList<>(tensors);
            tensors.clear();
        }
        if (onStack) CURRENT.set(parent == ROOT ? null : parent);
        for (Tensor t : toFree) t.freeFromScope();
    }
}
