package dev.advinterp.nn;

import dev.advinterp.engine.Gradients;
import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tape;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.Backend;
import dev.advinterp.engine.backend.Backends;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.optim.Sgd;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * What a model needs in memory, measured through the allocation statistics of the backend its
 * parameters live on (host memory on the CPU, device memory on a GPU): the
 * parameters and buffers, the optimiser's momentum, the kernels' reusable workspaces, and the
 * peak of one training step (forward, loss, backward, SGD) and of one evaluation forward above
 * that. {@code moduleOutputBytes} is the sum of the distinct outputs of every module in the
 * forward pass, a lower bound for what the training step must keep for its backward.
 */
public record MemoryProfile(String model, int batch, int size, long parameterBytes, long optimizerBytes, long workspaceBytes,
                            long trainingStepPeakBytes, long forwardPeakBytes, long moduleOutputBytes, long leakedBytes) {

    /** Measures after one warm-up step, so that the workspaces have their steady size. */
    public static MemoryProfile measure(ImageModel m, int batch) {
        int size = m.config().inputSize(), c = m.config().inChannels();
        Backend mem = Backends.of(m.namedParameters().values().iterator().next());
        long before = mem.memoryInUse();
        long params = 0;
        for (Tensor t : m.namedParameters().values()) params += t.numel() * Float.BYTES;
        for (Tensor t : m.namedBuffers().values()) params += t.numel() * Float.BYTES;
        int[] labels = new int[batch];
        for (int i = 0; i < batch; i++) labels[i] = i % m.config().classes();
        try (Sgd sgd = new Sgd(m.namedParameters(), Sgd.Options.defaults(0.001f))) {
            long optimizer = mem.memoryInUse() - before;
            step(m, sgd, batch, c, size, labels);
            long base = mem.memoryInUse();
            mem.resetMemoryPeak();
            step(m, sgd, batch, c, size, labels);
            long trainPeak = mem.memoryPeak() - base;
            long leaked = mem.memoryInUse() - base;

            long outputs;
            mem.resetMemoryPeak();
            long evalBase = mem.memoryInUse();
            try (var mode = m.inMode(false); Scope s = Scope.open();
                 Activations cap = Activations.capture(m.namedModules().keySet().toArray(String[]::new))) {
                m.call(Tensor.rand(1, 0f, 1f, batch, c, size, size));
                Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
                long sum = 0;
                for (Tensor t : cap.all().values()) {
                    if (seen.add(t.storage())) sum += t.storage().byteSize();
                }
                outputs = sum;
            }
            long forwardPeak = mem.memoryPeak() - evalBase;
            return new MemoryProfile(m.config().toString(), batch, size, params, optimizer, mem.workspaceBytes(),
                    trainPeak, forwardPeak, outputs, leaked);
        }
    }

    private static void step(ImageModel m, Sgd sgd, int batch, int c, int size, int[] labels) {
        m.train(true);
        try (Scope s = Scope.open(); Tape tape = Tape.start()) {
            Tensor loss = Ops.softmaxCrossEntropy(m.call(Tensor.rand(2, 0f, 1f, batch, c, size, size)), labels);
            Gradients g = tape.backward(loss);
            sgd.step(g, 0.001f);
        }
    }

    private static String mb(long bytes) {
        return String.format("%.1f", bytes / (1024.0 * 1024.0));
    }

    /** One Markdown table row: model, batch, size, then MiB of each part. */
    public String markdownRow() {
        return "| " + model + " | " + batch + " | " + mb(parameterBytes) + " | " + mb(optimizerBytes) + " | " + mb(workspaceBytes)
                + " | " + mb(trainingStepPeakBytes) + " | " + mb(forwardPeakBytes) + " |";
    }

    public static String markdownHeader() {
        return "| model | batch | parameters + buffers (MiB) | SGD momentum (MiB) | workspaces (MiB) | training step peak (MiB) | forward peak (MiB) |\n"
                + "|---|---|---|---|---|---|---|";
    }
}
