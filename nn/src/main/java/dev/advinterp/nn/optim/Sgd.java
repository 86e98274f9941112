package dev.advinterp.nn.optim;

import dev.advinterp.engine.Gradients;
import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.io.HostTensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Stochastic gradient descent with momentum, weight decay and optional Nesterov, exactly as
 * PyTorch's {@code torch.optim.SGD} (dampening 0): one fused update per parameter. The momentum
 * buffers start at zero, which gives PyTorch's first step (buffer = gradient), and live in the
 * optimiser's own scope.
 */
public final class Sgd implements AutoCloseable {

    /** Hyper-parameters; {@link #defaults(float)} are the usual ImageNet ones. */
    public record Options(float lr, float momentum, float weightDecay, boolean nesterov) {
        public Options {
            if (!(lr > 0) || !(momentum >= 0) || !(weightDecay >= 0)) {
                throw new IllegalArgumentException("SGD: lr must be > 0, momentum and weight decay >= 0; got lr=" + lr
                        + ", momentum=" + momentum + ", weight decay=" + weightDecay);
            }
            if (nesterov && momentum == 0f) throw new IllegalArgumentException("SGD: Nesterov needs a momentum > 0");
        }

        public static Options defaults(float lr) {
            return new Options(lr, 0.9f, 5e-4f, false);
        }
    }

    private final Options options;
    private final LinkedHashMap<String, Tensor> params;
    private final LinkedHashMap<String, Tensor> buffers = new LinkedHashMap<>();
    private final Scope scope = Scope.detached("sgd");

    public Sgd(Map<String, Tensor> namedParameters, Options options) {
        this.options = options;
        this.params = new LinkedHashMap<>(namedParameters);
        if (options.momentum() != 0f) {
            for (var e : params.entrySet()) buffers.put(e.getKey(), scope.adopt(Tensor.zeros(e.getValue().shape())));
        }
    }

    public Options options() {
        return options;
    }

    /** One update of every parameter that has a gradient in {@code g}, at learning rate {@code lr}. */
    public void step(Gradients g, float lr) {
        for (var e : params.entrySet()) {
            Tensor grad = g.orNull(e.getValue());
            if (grad == null) continue;
            Ops.sgdStep(e.getValue(), grad, buffers.get(e.getKey()), lr, options.momentum(), options.weightDecay(), options.nesterov());
        }
    }

    /** The momentum buffers, named {@code momentum_buffer.<parameter>}. */
    public LinkedHashMap<String, HostTensor> state() {
        LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
        for (var e : buffers.entrySet()) {
            int[] d = e.getValue().shape().dims();
            long[] shape = new long[d.length];
            for (int i = 0; i < d.length; i++) shape[i] = d[i];
            out.put("momentum_buffer." + e.getKey(), HostTensor.ofFloats(e.getValue().toArray(), shape));
        }
        return out;
    }

    /** Restores {@link #state()}; every buffer must be there with its shape. */
    public void loadState(Map<String, HostTensor> state) {
        for (var e : buffers.entrySet()) {
            HostTensor h = state.get("momentum_buffer." + e.getKey());
            if (h == null || h.numel() != e.getValue().numel()) {
                throw new IllegalArgumentException("optimiser state lacks a momentum buffer for '" + e.getKey() + "' of shape "
                        + e.getValue().shape() + (h == null ? "" : " (found " + java.util.Arrays.toString(h.shape()) + ")"));
            }
        }
        try (Scope s = Scope.open()) {
            for (var e : buffers.entrySet()) {
                e.getValue().copyFrom(Tensor.of(state.get("momentum_buffer." + e.getKey()).toFloats(), e.getValue().shape().dims()));
            }
        }
    }

    @Override
    public void close() {
        scope.close();
    }
}
