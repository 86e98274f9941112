package dev.advinterp.engine;

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
 */
public final class Scope implements AutoCloseable {
    private static final Scope ROOT = new Scope(null, "root", false);
    private static final ThreadLocal<Scope> CURRENT = new ThreadLocal<>();

    private final Scope parent;
    private final String name;
    private final boolean onStack;
    private final LinkedHashSet<Tensor> tensors = new LinkedHashSet<>();
    private boolean closed;

    private Scope(Scope parent, String name, boolean onStack) {
        this.parent = parent;
        this.name = name;
        this.onStack = onStack;
    }

    /** Opens a scope nested in the current one and makes it current on this thread. */
    public static Scope open() {
        Scope parent = current();
        Scope s = new Scope(parent, "scope", true);
        CURRENT.set(s);
        return s;
    }

    /**
     * A scope that is not on the thread's stack, for tensors that outlive any block of code
     * (a model's parameters and optimiser state). Tensors enter it by {@link #adopt}.
     */
    public static Scope detached(String name) {
        return new Scope(ROOT, name, false);
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
