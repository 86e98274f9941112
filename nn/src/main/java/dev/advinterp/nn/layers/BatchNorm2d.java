package dev.advinterp.nn.layers;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.Module;
import dev.advinterp.nn.io.DType;
import dev.advinterp.nn.io.HostTensor;

import java.util.Map;

/**
 * Batch normalisation (PyTorch's BatchNorm2d, momentum 0.1, eps 1e-5): weight and bias are
 * parameters, running_mean and running_var buffers, num_batches_tracked an int64 counter.
 */
public final class BatchNorm2d extends Module {
    public static final float MOMENTUM = 0.1f, EPS = 1e-5f;
    public final int channels;
    private final Tensor weight, bias, runningMean, runningVar;
    private long numBatchesTracked;

    public BatchNorm2d(int channels) {
        if (channels <= 0) throw new IllegalArgumentException("BatchNorm2d(" + channels + "): channels must be positive");
        this.channels = channels;
        this.weight = parameter("weight", Inits.constant(1f, channels));
        this.bias = parameter("bias", Inits.constant(0f, channels));
        this.runningMean = buffer("running_mean", Inits.constant(0f, channels));
        this.runningVar = buffer("running_var", Inits.constant(1f, channels));
    }

    public Tensor weight() {
        return weight;
    }

    public Tensor bias() {
        return bias;
    }

    public long numBatchesTracked() {
        return numBatchesTracked;
    }

    @Override
    protected Tensor forward(Tensor x) {
        if (training) numBatchesTracked++;
        return Ops.batchNorm(x, weight, bias, runningMean, runningVar, training, MOMENTUM, EPS);
    }

    @Override
    protected Map<String, HostTensor> extraState() {
        return Map.of("num_batches_tracked", HostTensor.ofLongs(new long[]{numBatchesTracked}));
    }

    @Override
    protected void loadExtraState(String name, HostTensor value) {
        if (!name.equals("num_batches_tracked") || value.numel() != 1 || value.dtype().isFloatingPoint() && value.dtype() != DType.F32) {
            super.loadExtraState(name, value);
        }
        numBatchesTracked = value.dtype().isFloatingPoint() ? (long) value.toFloats()[0] : value.toLongs()[0];
    }
}
