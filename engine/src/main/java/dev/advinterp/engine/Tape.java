package dev.advinterp.engine;

import dev.advinterp.engine.backend.Backends;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Reverse-mode autograd by recording. While a tape is recording on a thread, every op of
 * {@link Ops} whose inputs include a tracked tensor (one passed to {@link #watch}, a parameter with
 * {@link Tensor#requiresGrad()}, or the output of an earlier recorded op) records a node: its
 * output, its inputs and its backward function, which {@link Ops} defines right beside the
 * forward. {@link #backward} walks the nodes in reverse order of recording, which is a
 * topological order.
 *
 * <pre>{@code
 * try (var s = Scope.open(); var tape = Tape.start()) {
 *     tape.watch(images);                                   // gradients for inputs too
 *     Tensor loss = Ops.softmaxCrossEntropy(model.forward(images), labels);
 *     Gradients g = tape.backward(loss);
 *     Tensor dImages = g.of(images);
 * }
 * }</pre>
 *
 * The tape holds references, not ownership: the tensors it saved for backward belong to their
 * scopes and must still be open when {@link #backward} runs. It also notes the version of each
 * saved tensor's storage (its inputs, and its output where the backward reads it: ReLU, the
 * poolings, row norms); a backward whose saved tensor was overwritten in place since
 * ({@link Ops#reluInPlace}) is refused with the op's name, never computed from the wrong values,
 * as PyTorch's version counters do.
 */
public final class Tape implements AutoCloseable {
    private static final ThreadLocal<Tape> ACTIVE = new ThreadLocal<>();

    /** The backward of one op: gradients of its inputs from the gradient of its output. */
    @FunctionalInterface
    public interface Backward {
        /**
         * @param gradOut gradient with respect to the op's output (same shape)
         * @param needs   which inputs need a gradient
         * @return one gradient per input (null where not needed), each owned by the current scope
         */
        Tensor[] apply(Tensor gradOut, boolean[] needs);
    }

    /**
     * One recorded op. {@code versions} holds the storage version of each input at record time (0
     * for a null input) and, as its last element, the output's when the backward reads the output,
     * else -1.
     */
    private record Node(String op, Tensor output, Tensor[] inputs, boolean[] needs, int[] versions, Backward backward) {
        /** Throws when a tensor this backward reads was written in place after the op was recorded. */
        void checkVersions() {
            for (int i = 0; i < inputs.length; i++) {
                if (inputs[i] != null && inputs[i].storage().version() != versions[i]) overwritten(inputs[i], "input " + i);
            }
            int out = versions[inputs.length];
            if (out >= 0 && output.storage().version() != out) overwritten(output, "output");
        }

        private void overwritten(Tensor t, String role) {
            throw new IllegalStateException("backward of " + op + ": its " + role + " " + t.shape() + " (made by " + t.origin()
                    + ") was overwritten in place after " + op + " was recorded; use the op that makes a new tensor "
                    + "(Ops.relu rather than Ops.reluInPlace) where a recorded op still needs the value");
        }
    }

    private final ArrayList<Node> nodes = new ArrayList<>();
    private final Tape previous;
    private boolean closed;
    private boolean paused;

    private Tape(Tape previous) {
        this.previous = previous;
    }

    /** Starts recording on this thread (a tape started inside another takes over until closed). */
    public static Tape start() {
        Tape t = new Tape(ACTIVE.get());
        ACTIVE.set(t);
        return t;
    }

    /** The recording tape of this thread, or null. */
    public static Tape active() {
        Tape t = ACTIVE.get();
        return t == null || t.paused ? null : t;
    }

    /** Marks {@code t} as an input whose gradient {@link #backward} will return. */
    public Tensor watch(Tensor t) {
        t.checkLive("watch");
        t.tape = this;
        return t;
    }

    /**
     * Stops watching {@code t}, an input this tape watched: a later {@link #backward} computes no
     * gradient for it (the ops recorded from it keep their record, and their other inputs' gradients
     * are computed as before). For an input whose gradient was needed only by an earlier
     * {@link #gradients} call: the consistent loss's clean image, whose FGSM gradient is taken
     * first, so that the training backward skips the first convolution's backward-data pass.
     */
    public void unwatch(Tensor t) {
        if (t.tape != this) throw new IllegalArgumentException("unwatch: the tensor " + t.shape() + " is not watched by this tape");
        t.tape = null;
    }

    /** Whether {@code t} is watched by this tape ({@link #watch}). */
    public boolean watches(Tensor t) {
        return t != null && t.tape == this;
    }

    /** Whether {@code t} is a leaf this tape computes a gradient for: a watched input or a parameter, not a recorded op's output. */
    boolean tracksLeaf(Tensor t) {
        if (t == null || !tracks(t)) return false;
        for (int i = nodes.size() - 1; i >= 0; i--) {
            if (nodes.get(i).output() == t) return false;
        }
        return true;
    }

    boolean tracks(Tensor t) {
        return t != null && (t.tape == this || t.requiresGrad());
    }

    /** Records an op if any input is tracked. Called by {@link Ops}; the output becomes tracked. */
    static void record(String op, Tensor output, Tensor[] inputs, Backward backward) {
        record(op, output, false, inputs, backward);
    }

    /** As {@link #record(String, Tensor, Tensor[], Backward)}, for an op whose backward reads its own output too. */
    static void recordReadingOutput(String op, Tensor output, Tensor[] inputs, Backward backward) {
        record(op, output, true, inputs, backward);
    }

    private static void record(String op, Tensor output, boolean readsOutput, Tensor[] inputs, Backward backward) {
        Tape tape = active();
        if (tape == null) return;
        boolean[] needs = new boolean[inputs.length];
        boolean any = false;
        for (int i = 0; i < inputs.length; i++) {
            needs[i] = tape.tracks(inputs[i]);
            any |= needs[i];
        }
        if (!any) return;
        int[] versions = new int[inputs.length + 1];
        for (int i = 0; i < inputs.length; i++) versions[i] = inputs[i] == null ? 0 : inputs[i].storage().version();
        versions[inputs.length] = readsOutput ? output.storage().version() : -1;
        output.tape = tape;
        tape.nodes.add(new Node(op, output, inputs, needs, versions, backward));
    }

    /** Number of recorded ops. */
    public int size() {
        return nodes.size();
    }

    /** Backward from a one-element output (a loss), seeded with 1. */
    public Gradients backward(Tensor output) {
        if (output.numel() != 1) {
            throw new IllegalArgumentException("backward from a tensor of shape " + output.shape()
                    + " needs a seed gradient; only one-element outputs (losses) seed themselves with 1");
        }
        return backward(output, Tensor.full(output.shape(), 1f));
    }

    /**
     * Backward from {@code output} with {@code seed} as its gradient. Returns the gradients of every
     * watched tensor and every parameter reached; intermediate gradients are freed as soon as they
     * have been used. This is the tape's last backward: its record is dropped.
     */
    public Gradients backward(Tensor output, Tensor seed) {
        return run(output, seed, null, false);
    }

    /**
     * Gradients of a one-element {@code output} with respect to {@code targets} only (watched
     * inputs or parameters), keeping the record so that a later backward can run over the same
     * ops: an attack's input gradient taken from the same clean forward that the training loss
     * then differentiates. Only the ops on a path to a target compute gradients (no weight
     * gradients when the target is the input).
     */
    public Gradients gradients(Tensor output, Tensor... targets) {
        if (output.numel() != 1) {
            throw new IllegalArgumentException("gradients of a tensor of shape " + output.shape() + ": only one-element outputs");
        }
        if (targets.length == 0) throw new IllegalArgumentException("gradients: name at least one target tensor");
        Map<Tensor, Boolean> wanted = new IdentityHashMap<>();
        for (Tensor t : targets) {
            if (!tracks(t)) {
                throw new IllegalArgumentException("gradients: target " + t.shape() + " (made by " + t.origin()
                        + ") is not tracked by this tape; watch it first");
            }
            wanted.put(t, Boolean.TRUE);
        }
        Gradients g = run(output, Tensor.full(output.shape(), 1f), wanted, true);
        return g;
    }

    private Gradients run(Tensor output, Tensor seed, Map<Tensor, Boolean> targets, boolean retain) {
        if (closed) throw new IllegalStateException("backward on a closed tape (output " + output.shape() + ")");
        if (!seed.shape().equals(output.shape())) {
            throw new IllegalArgumentException("backward: seed " + seed.shape() + " does not match output " + output.shape());
        }
        if (!tracks(output)) {
            throw new IllegalStateException("backward: the output " + output.shape() + " (made by " + output.origin()
                    + ") was not recorded on this tape; watch an input or use parameters with requiresGrad");
        }
        paused = true;
        Map<Tensor, Boolean> produced = new IdentityHashMap<>();
        for (Node n : nodes) produced.put(n.output(), Boolean.TRUE);
        // An input needs a gradient only if it is wanted (a target; without targets, a leaf the tape
        // still tracks: a parameter, or an input watched and not unwatched since) or a wanted tensor
        // lies upstream of it.
        Map<Tensor, Boolean> leads = new IdentityHashMap<>();
        for (Node n : nodes) {
            for (Tensor in : n.inputs()) {
                if (in != null && (leads.containsKey(in) || wanted(in, targets, produced))) {
                    leads.put(n.output(), Boolean.TRUE);
                    break;
                }
            }
        }
        Map<Tensor, Tensor> grads = new IdentityHashMap<>();   // outputs of recorded ops, pending
        Map<Tensor, Tensor> leaves = new IdentityHashMap<>();  // watched inputs and parameters
        grads.put(output, seed);
        try {
            for (int i = nodes.size() - 1; i >= 0; i--) {
                Node node = nodes.get(i);
                Tensor g = grads.remove(node.output());
                if (g == null) continue;
                boolean[] needs = node.needs().clone();
                boolean any = false;
                for (int j = 0; j < needs.length; j++) {
                    Tensor in = node.inputs()[j];
                    needs[j] &= in != null && (leads.containsKey(in) || wanted(in, targets, produced));
                    any |= needs[j];
                }
                if (!any) {
                    if (g != seed) g.close();
                    continue;
                }
                node.checkVersions();
                Tensor[] inGrads = node.backward().apply(g, needs);
                if (g != seed) g.close();
                for (int j = 0; j < node.inputs().length; j++) {
                    if (!needs[j] || inGrads[j] == null) continue;
                    Tensor in = node.inputs()[j];
                    if (targets != null && targets.containsKey(in)) accumulate(leaves, in, inGrads[j]); // stop at a target
                    else if (produced.containsKey(in)) accumulate(grads, in, inGrads[j]);
                    else if (targets == null) accumulate(leaves, in, inGrads[j]);
                    else inGrads[j].close();
                }
            }
        } finally {
            paused = false;
            if (!retain) nodes.clear();
        }
        for (Tensor g : grads.values()) {
            if (g != seed) g.close();
        }
        if (targets != null) seed.close();
        return new Gradients(leaves);
    }

    /** Whether a gradient is wanted for {@code t} itself: it is a target, or, without targets, a leaf the tape tracks. */
    private boolean wanted(Tensor t, Map<Tensor, Boolean> targets, Map<Tensor, Boolean> produced) {
        return targets != null ? targets.containsKey(t) : !produced.containsKey(t) && tracks(t);
    }

    private static void accumulate(Map<Tensor, Tensor> target, Tensor input, Tensor g) {
        Tensor old = target.get(input);
        if (old == null) {
            target.put(input, g);
        } else {
            Backends.of(old).axpby(1f, old, 1f, g, old);
            g.close();
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        nodes.clear();
        if (ACTIVE.get() == this) ACTIVE.set(previous);
    }
}
