package dev.advinterp.nn;

import dev.advinterp.engine.Tensor;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Captures the outputs of named modules during a forward pass (the paper's layer φ, any
 * intermediate activation):
 *
 * <pre>{@code
 * try (var cap = Activations.capture("layer4")) {
 *     Tensor logits = model.call(images);
 *     Tensor phi = cap.get("layer4");
 * }
 * }</pre>
 *
 * The captured tensors are the modules' own outputs (no copy); they belong to the scope the
 * forward ran in. They stay on the autograd tape, so a loss on them is differentiable.
 */
public final class Activations implements AutoCloseable {
    private static final ThreadLocal<Activations> ACTIVE = new ThreadLocal<>();

    private final Set<String> wanted;
    private final Map<String, Tensor> captured = new LinkedHashMap<>();
    private final Activations previous;

    private Activations(Set<String> wanted, Activations previous) {
        this.wanted = wanted;
        this.previous = previous;
    }

    /** Starts capturing the outputs of the modules at these paths on this thread. */
    public static Activations capture(String... paths) {
        Activations a = new Activations(new LinkedHashSet<>(List.of(paths)), ACTIVE.get());
        ACTIVE.set(a);
        return a;
    }

    static void offer(String path, Tensor output) {
        Activations a = ACTIVE.get();
        if (a != null && a.wanted.contains(path)) a.captured.put(path, output);
    }

    /** Whether an open capture on this thread holds {@code t} (an in-place op must then leave it alone). */
    public static boolean holds(Tensor t) {
        for (Activations a = ACTIVE.get(); a != null; a = a.previous) {
            for (Tensor c : a.captured.values()) {
                if (c == t) return true;
            }
        }
        return false;
    }

    /** The output of the module at {@code path} in the last forward pass. */
    public Tensor get(String path) {
        Tensor t = captured.get(path);
        if (t == null) {
            throw new IllegalArgumentException(wanted.contains(path)
                    ? "module '" + path + "' did not run since the capture started (is the path right? see Module.namedModules())"
                    : "'" + path + "' was not asked for; capture it with Activations.capture(\"" + path + "\")");
        }
        return t;
    }

    public Map<String, Tensor> all() {
        return Map.copyOf(captured);
    }

    @Override
    public void close() {
        if (ACTIVE.get() == this) ACTIVE.set(previous);
    }
}
