package dev.advinterp.engine.backend.cuda;

import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Shape;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.ReductionKernels;
import dev.advinterp.engine.backend.cpu.CpuBackend;

import java.lang.foreign.MemorySegment;
import java.util.List;

import static dev.advinterp.engine.backend.cuda.CudaDevice.ptr;
import static dev.advinterp.engine.backend.cuda.Kernel.i32;
import static dev.advinterp.engine.backend.cuda.Kernel.i64;

/**
 * Sums and selections on the GPU: the sum in float64 over 256 fixed slices then a fixed tree
 * (deterministic, one double back to the host), argmax and the row norms one block per row, top-k
 * on the host.
 */
final class CudaReductions implements ReductionKernels {
    static final Kernel SUM_PARTIALS = Kernel.of("sum_partials_f32", "reductions.cu", new Grid.Fixed(KernelLauncher.REDUCTION_BLOCKS),
            true, "Σx in float64: one partial per block of 256 fixed slices", "4", Kernel.ptr("x"), Kernel.ptr("partials"), i64("n"));
    static final Kernel SUM_FINISH = Kernel.of("sum_finish_f64", "reductions.cu", new Grid.Fixed(1), true,
            "Σ of the partials in a fixed tree", "the 256 partials", Kernel.ptr("partials"), i32("count"), Kernel.ptr("out"));
    static final Kernel ARGMAX_ROWS = Kernel.of("argmax_rows_f32", "reductions.cu", new Grid.BlockPer("rows"), true,
            "first maximum of each row", "4", Kernel.ptr("x"), Kernel.ptr("out"), i32("rows"), i32("cols"));

    static final Kernel ROW_NORMS = Kernel.of("row_norms_f32", "reductions.cu", new Grid.BlockPer("rows"), true,
            "√(Σ_j x[r,j]²) of each row in float64, a fixed tree per row", "4", Kernel.ptr("x"), Kernel.ptr("out"), i32("rows"),
            i32("cols"));
    static final Kernel ROW_NORMS_BACKWARD = Kernel.of("row_norms_backward_f32", "reductions.cu", new Grid.GridStride(1), false,
            "dx = norms[r] > 0 ? dy[r]·x / norms[r] : 0", "8", Kernel.ptr("x"), Kernel.ptr("norms"), Kernel.ptr("dy"), Kernel.ptr("dx"),
            i32("cols"), i64("n"));

    static final List<Kernel> KERNELS = List.of(SUM_PARTIALS, SUM_FINISH, ARGMAX_ROWS, ROW_NORMS, ROW_NORMS_BACKWARD);

    private final CudaDevice device;
    private final KernelLauncher k;
    private final Scratch partials, result, rowBuffer;

    CudaReductions(CudaDevice device) {
        this.device = device;
        this.k = device.kernels();
        this.partials = device.scratch("reduction partials");
        this.result = device.scratch("reduction result");
        this.rowBuffer = device.scratch("per-row values");
    }

    @Override
    public double sum(Tensor x) {
        long part = partials.ensure((long) KernelLauncher.REDUCTION_BLOCKS * Double.BYTES);
        long out = result.ensure(Double.BYTES);
        k.launch(SUM_PARTIALS, k.args().ptr(x).ptr(part).i64(x.numel()));
        return finish(k, device, part, out);
    }

    /** The sum of the 256 partials at {@code partials}, through {@code out} (one double), back on the host. */
    static double finish(KernelLauncher k, CudaDevice device, long partials, long out) {
        k.launch(SUM_FINISH, k.args().ptr(partials).i32(KernelLauncher.REDUCTION_BLOCKS).ptr(out));
        return device.readDouble(out);
    }

    @Override
    public void argmax(Tensor x, int rows, int cols, int[] out) {
        long idx = rowBuffer.ensure((long) rows * Integer.BYTES);
        k.launch(ARGMAX_ROWS, k.args().ptr(x).ptr(idx).i32(rows).i32(cols));
        device.deviceToHost(idx, MemorySegment.ofArray(out), 0, (long) rows * Integer.BYTES);
    }

    @Override
    public void rowNorms(Tensor x, int rows, int cols, Tensor out) {
        k.launch(ROW_NORMS, k.args().ptr(x).ptr(out).i32(rows).i32(cols));
    }

    @Override
    public void rowNormsBackward(Tensor x, Tensor norms, Tensor dy, int rows, int cols, Tensor dx) {
        k.launch(ROW_NORMS_BACKWARD, x.numel(), k.args().ptr(x).ptr(norms).ptr(dy).ptr(dx).i32(cols).i64(x.numel()));
    }

    /**
     * Top-k is small work on small tensors (logits of a batch): the values come to the host and
     * the CPU backend's selection runs on them, so ties break exactly as on the CPU.
     */
    @Override
    public void topk(Tensor x, int rows, int cols, int k, int[] indices, float[] values) {
        float[] host = new float[Math.toIntExact(x.numel())];
        device.deviceToHost(ptr(x), MemorySegment.ofArray(host), 0, x.numel() * Float.BYTES);
        CpuBackend cpu = CpuBackend.instance();
        try (Scope s = Scope.open(cpu)) {
            Tensor onCpu = Tensor.empty(cpu, Shape.of(rows, cols), "topk host copy");
            cpu.copyFromHost(host, 0, onCpu);
            cpu.topk(onCpu, rows, cols, k, indices, values);
        }
    }
}
