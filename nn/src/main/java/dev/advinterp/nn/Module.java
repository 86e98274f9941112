package dev.advinterp.nn;

import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.io.HostTensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A layer or a network: named parameters, buffers and children, laid out so that
 * {@link #stateDict()} has exactly the keys, order and shapes of PyTorch's {@code state_dict()}
 * for the same architecture (own parameters, then own buffers, then each child under
 * {@code name.}).
 *
 * <p>Parameters and buffers live in the module tree's own detached {@link Scope}, created with
 * the root and freed by {@link #close()}. {@link #call} runs {@link #forward} and hands the output
 * to an open {@link Activations} capture when one asked for this module's path.
 */
public abstract class Module implements AutoCloseable {
    private final LinkedHashMap<String, Tensor> parameters = new LinkedHashMap<>();
    private final LinkedHashMap<String, Tensor> buffers = new LinkedHashMap<>();
    private final LinkedHashMap<String, Module> children = new LinkedHashMap<>();
    private final List<Tensor> constants = new ArrayList<>();
    private Scope scope;
    private String path = "";
    private Module parent;
    protected boolean training = true;

    /** The computation; called through {@link #call}. */
    protected abstract Tensor forward(Tensor x);

    /** Runs the module on x (and records its output for an {@link Activations} capture). */
    public final Tensor call(Tensor x) {
        Tensor y = forward(x);
        Activations.offer(path, y);
        return y;
    }

    // ------------------------------------------------------------------ building

    private Scope scope() {
        if (parent != null) return parent.scope();
        if (scope == null) scope = Scope.detached(getClass().getSimpleName());
        return scope;
    }

    protected final Tensor parameter(String name, Tensor t) {
        checkName(name);
        scope().adopt(t).requiresGrad(true);
        parameters.put(name, t);
        return t;
    }

    protected final Tensor buffer(String name, Tensor t) {
        checkName(name);
        scope().adopt(t);
        buffers.put(name, t);
        return t;
    }

    /** A tensor the module needs that is not part of its state (input normalisation constants). */
    protected final Tensor constant(Tensor t) {
        scope().adopt(t);
        constants.add(t);
        return t;
    }

    /** Takes over the tensors of a helper module that is used but not registered as a child. */
    protected final void adoptConstants(Module helper) {
        for (Tensor t : helper.allTensors()) constant(t);
        if (helper.scope != null) {
            helper.scope.close();
            helper.scope = null;
        }
        helper.parent = this;
        helper.rename("normalize");
    }

    protected final <M extends Module> M child(String name, M module) {
        checkName(name);
        Module m = module;
        if (m.parent != null) throw new IllegalArgumentException("module " + m.getClass().getSimpleName() + " already belongs to " + m.parent.path);
        m.parent = this;
        // tensors made before attaching move into the tree's scope
        for (Tensor t : m.allTensors()) scope().adopt(t);
        if (m.scope != null) {
            m.scope.close();
            m.scope = null;
        }
        children.put(name, m);
        m.rename(path.isEmpty() ? name : path + "." + name);
        return module;
    }

    private void checkName(String name) {
        if (name.isEmpty() || name.contains(".")) throw new IllegalArgumentException("bad module entry name '" + name + "'");
        if (parameters.containsKey(name) || buffers.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException("'" + name + "' is already defined in " + describe());
        }
    }

    private void rename(String p) {
        path = p;
        for (var e : children.entrySet()) e.getValue().rename(p + "." + e.getKey());
    }

    private List<Tensor> allTensors() {
        List<Tensor> out = new ArrayList<>(parameters.values());
        out.addAll(buffers.values());
        out.addAll(constants);
        for (Module c : children.values()) out.addAll(c.allTensors());
        return out;
    }

    // ------------------------------------------------------------------ naming and traversal

    /** The dotted path of this module in its tree ("" for the root). */
    public final String path() {
        return path;
    }

    private String describe() {
        return getClass().getSimpleName() + (path.isEmpty() ? "" : " '" + path + "'");
    }

    public final Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** Every module of the tree by path, the root as "" first, in definition order. */
    public final LinkedHashMap<String, Module> namedModules() {
        LinkedHashMap<String, Module> out = new LinkedHashMap<>();
        collectModules(out);
        return out;
    }

    private void collectModules(Map<String, Module> out) {
        out.put(path, this);
        for (Module c : children.values()) c.collectModules(out);
    }

    /** The module at a dotted path relative to this one. */
    public final Module module(String dotted) {
        Module m = this;
        if (dotted.isEmpty()) return m;
        for (String part : dotted.split("\\.")) {
            Module next = m.children.get(part);
            if (next == null) {
                throw new IllegalArgumentException("no module '" + dotted + "' in " + describe() + "; its modules are "
                        + namedModules().keySet());
            }
            m = next;
        }
        return m;
    }

    /** Every trainable parameter by its state-dict name. */
    public final LinkedHashMap<String, Tensor> namedParameters() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        collect(out, "", true, false);
        return out;
    }

    /** Every buffer (running statistics) by its state-dict name. */
    public final LinkedHashMap<String, Tensor> namedBuffers() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        collect(out, "", false, true);
        return out;
    }

    public final List<Tensor> parameters() {
        return List.copyOf(namedParameters().values());
    }

    private void collect(Map<String, Tensor> out, String prefix, boolean params, boolean bufs) {
        if (params) parameters.forEach((k, v) -> out.put(prefix + k, v));
        if (bufs) buffers.forEach((k, v) -> out.put(prefix + k, v));
        children.forEach((k, c) -> c.collect(out, prefix + k + ".", params, bufs));
    }

    /** Number of trainable scalars. */
    public final long parameterCount() {
        long n = 0;
        for (Tensor t : namedParameters().values()) n += t.numel();
        return n;
    }

    // ------------------------------------------------------------------ modes

    public final Module train(boolean on) {
        training = on;
        for (Module c : children.values()) c.train(on);
        return this;
    }

    public final Module eval() {
        return train(false);
    }

    public final boolean isTraining() {
        return training;
    }

    /** Puts the tree in training or evaluation mode until {@link ModeScope#close()}, which restores the mode it had. */
    public final ModeScope inMode(boolean training) {
        ModeScope scope = new ModeScope(this, this.training);
        train(training);
        return scope;
    }

    /** The mode a module had before {@link #inMode}; closing it puts that mode back. */
    public record ModeScope(Module module, boolean previous) implements AutoCloseable {
        @Override
        public void close() {
            module.train(previous);
        }
    }

    /** Sets the seed of every random layer (dropout) of the tree; each mixes in its own path. */
    public void seed(long seed) {
        for (Module c : children.values()) c.seed(seed);
    }

    // ------------------------------------------------------------------ state dict

    /**
     * The state as PyTorch names it: parameters and buffers as float32, plus the integer
     * state of modules that have one (batch norm's {@code num_batches_tracked}, an int64 scalar).
     */
    public final LinkedHashMap<String, HostTensor> stateDict() {
        LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
        writeState(out, "");
        return out;
    }

    private void writeState(Map<String, HostTensor> out, String prefix) {
        parameters.forEach((k, v) -> out.put(prefix + k, toHost(v)));
        buffers.forEach((k, v) -> out.put(prefix + k, toHost(v)));
        extraState().forEach((k, v) -> out.put(prefix + k, v));
        children.forEach((k, c) -> c.writeState(out, prefix + k + "."));
    }

    private static HostTensor toHost(Tensor t) {
        int[] d = t.shape().dims();
        long[] shape = new long[d.length];
        for (int i = 0; i < d.length; i++) shape[i] = d[i];
        return HostTensor.ofFloats(t.toArray(), shape);
    }

    /** State that is not a float tensor, by local name (default: none). */
    protected Map<String, HostTensor> extraState() {
        return Map.of();
    }

    /** Restores state that {@link #extraState()} produced. */
    protected void loadExtraState(String name, HostTensor value) {
        throw new IllegalArgumentException("unexpected state '" + name + "' for " + describe());
    }

    /**
     * Loads a state dict: every parameter and buffer must be present with its shape (any float
     * element type is converted to float32); with {@code strict}, keys the model does not have are
     * an error too. Nothing is changed unless everything matches.
     */
    public final void loadStateDict(Map<String, HostTensor> state, boolean strict) {
        LinkedHashMap<String, Tensor> mine = namedParameters();
        mine.putAll(namedBuffers());
        LinkedHashMap<String, HostTensor> extra = new LinkedHashMap<>();
        collectExtraNames(extra, "");
        List<String> missing = new ArrayList<>(), wrong = new ArrayList<>(), unexpected = new ArrayList<>();
        for (var e : mine.entrySet()) {
            HostTensor h = state.get(e.getKey());
            if (h == null) {
                missing.add(e.getKey());
                continue;
            }
            long[] want = Arrays.stream(e.getValue().shape().dims()).asLongStream().toArray();
            if (!Arrays.equals(want, h.shape()) || !h.dtype().isFloatingPoint()) {
                wrong.add(e.getKey() + " (model " + Arrays.toString(want) + " float32, file " + Arrays.toString(h.shape()) + " " + h.dtype() + ")");
            }
        }
        for (String k : state.keySet()) {
            if (!mine.containsKey(k) && !extra.containsKey(k)) unexpected.add(k);
        }
        if (!missing.isEmpty() || !wrong.isEmpty() || (strict && !unexpected.isEmpty())) {
            StringBuilder sb = new StringBuilder("the state dict does not fit ").append(describe()).append(':');
            if (!missing.isEmpty()) sb.append("\n  missing: ").append(missing);
            if (!wrong.isEmpty()) sb.append("\n  wrong shape or type: ").append(wrong);
            if (strict && !unexpected.isEmpty()) sb.append("\n  unexpected: ").append(unexpected);
            throw new IllegalArgumentException(sb.toString());
        }
        try (Scope s = Scope.open()) {
            for (var e : mine.entrySet()) {
                float[] v = state.get(e.getKey()).toFloats();
                e.getValue().copyFrom(Tensor.of(v, e.getValue().shape().dims()));
            }
        }
        loadExtra(state, "");
    }

    private void collectExtraNames(Map<String, HostTensor> out, String prefix) {
        extraState().forEach((k, v) -> out.put(prefix + k, v));
        children.forEach((k, c) -> c.collectExtraNames(out, prefix + k + "."));
    }

    private void loadExtra(Map<String, HostTensor> state, String prefix) {
        for (String k : extraState().keySet()) {
            HostTensor h = state.get(prefix + k);
            if (h != null) loadExtraState(k, h);
        }
        children.forEach((k, c) -> c.loadExtra(state, prefix + k + "."));
    }

    // ------------------------------------------------------------------ lifetime

    /** Frees the parameters and buffers of the whole tree (call on the root). */
    @Override
    public void close() {
        if (parent != null) {
            parent.close();
            return;
        }
        if (scope != null) scope.close();
    }

    @Override
    public String toString() {
        return describe();
    }
}
