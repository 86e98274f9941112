package dev.advinterp.engine;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;

/** The gradients one backward pass produced, keyed by the tensors they belong to. */
public final class Gradients {
    private final Map<Tensor, Tensor> grads;

    Gradients(Map<Tensor, Tensor> grads) {
        this.grads = grads;
    }

    /** The gradient of {@code t}; an exception if the backward did not reach it. */
    public Tensor of(Tensor t) {
        Tensor g = grads.get(t);
        if (g == null) {
            throw new IllegalArgumentException("no gradient for tensor " + t.shape() + " (made by " + t.origin()
                    + "): it was neither watched nor a parameter reached by the backward pass");
        }
        return g;
    }

    /** The gradient of {@code t}, or null when the backward pass did not reach it. */
    public Tensor orNull(Tensor t) {
        return grads.get(t);
    }

    public boolean has(Tensor t) {
        return grads.containsKey(t);
    }

    public Set<Tensor> tensors() {
        return Collections.unmodifiableSet(grads.keySet());
    }

    /** Frees every gradient now. */
    public void close() {
        for (Tensor g : grads.values()) g.close();
        grads.clear();
    }
}
