package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.Device;
import dev.advinterp.engine.DeviceMemory;
import dev.advinterp.engine.EngineConfig;
import dev.advinterp.engine.backend.Backend;
import dev.advinterp.engine.backend.ConvolutionKernels;
import dev.advinterp.engine.backend.Diagnostics;
import dev.advinterp.engine.backend.GemmKernels;
import dev.advinterp.engine.backend.PoolGeometry;
import dev.advinterp.engine.backend.PoolingKernels;
import dev.advinterp.engine.memory.HostMemory;
import dev.advinterp.engine.memory.NativeMemory;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * The CPU backend and the reference for every kernel: GEMM through OpenBLAS (or the Vector API
 * when no BLAS loads), convolution and max/average pooling on oneDNN where it loads
 * (DnnlConvolution, or with advinterp.conv.measure Winograd for a 3×3 pass where that measured
 * faster: ConvolutionChoice;
 * DnnlPooling where oneDNN has a JIT kernel for the shape) and otherwise by Winograd or im2col +
 * GEMM (CpuConv2d, the reference oneDNN is tested against) and CpuPool,
 * everything else in Java on the fixed pool of {@link Parallel}. Per advinterp.channels.last the
 * activations stay NHWC from one oneDNN convolution to the next ({@link CpuChannelsLast}).
 * Batch normalisation stays in
 * Java: oneDNN's for the NCHW layout measured two to seven times slower than CpuBatchNorm on
 * ResNet-18's shapes (bench/README.md). Each family of kernels lives in its own file (CpuConv2d,
 * CpuPool, CpuBatchNorm, CpuElementwise, CpuReductions, CpuFused); this class puts them together
 * with the host's memory. {@link Backend} checks every call's arguments before they reach them.
 */
public final class CpuBackend extends Backend {
    private static final CpuBackend INSTANCE = create();

    private final Gemm gemm;
    private final OpenBlas.LoadResult blasLoad;
    private final Dnnl.LoadResult dnnlLoad;
    /** The measured choice between oneDNN and Winograd, when oneDNN loaded. */
    private final ConvolutionChoice choice;

    private CpuBackend(Gemm gemm, OpenBlas.LoadResult blasLoad, Dnnl.LoadResult dnnlLoad, ConvolutionKernels convolution) {
        super(new Families(gemmFamily(gemm), convolution,
                dnnlLoad.dnnl().<PoolingKernels>map(d -> new DnnlPooling(d, new CpuPool())).orElseGet(CpuPool::new), new CpuBatchNorm(), new CpuElementwise(), new CpuReductions(), new CpuFused()));
        this.gemm = gemm;
        this.blasLoad = blasLoad;
        this.dnnlLoad = dnnlLoad;
        this.choice = convolution instanceof ConvolutionChoice c ? c : null;
    }

    /**
     * The convolutions run on oneDNN where it loads (ADVINTERP_DNNL), or with advinterp.conv.measure
     * on Winograd where that measured faster ({@link ConvolutionChoice}); without oneDNN on im2col
     * or Winograd and the GEMM.
     */
    private static CpuBackend create() {
        OpenBlas.LoadResult load = OpenBlas.load();
        Gemm gemm = load.blas().<Gemm>map(b -> b).orElseGet(VectorGemm::new);
        Dnnl.LoadResult dnnl = Dnnl.load();
        CpuConv2d java = new CpuConv2d(gemm);
        ConvolutionKernels convolution = dnnl.dnnl().<ConvolutionKernels>map(d -> ConvolutionChoice.oneDnnOrWinograd(new DnnlConvolution(d, java, CpuChannelsLast.MODE), java))
                .orElse(java);
        return new CpuBackend(gemm, load, dnnl, convolution);
    }

    /**
     * Which of oneDNN and Winograd each convolution pass measured faster so far, one line per pass
     * and geometry that Winograd can take (empty without oneDNN, or before the first convolution).
     */
    public List<String> convolutionChoices() {
        if (choice == null) return List.of();
        return choice.choices().stream().map(c -> c.describe("oneDNN", "Winograd")).sorted().toList();
    }

    /** What was tried when looking for oneDNN, and the outcome. */
    public Dnnl.LoadResult dnnlLoad() {
        return dnnlLoad;
    }

    /** GEMM on the tensors' segments: native (OpenBLAS), so Backend checks the matrices against their tensors first. */
    private static GemmKernels gemmFamily(Gemm gemm) {
        return (transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc) -> gemm.sgemm(transA, transB,
                m, n, k, alpha, a.segment(), aOffset, lda, b.segment(), bOffset, ldb, beta, c.segment(), cOffset, ldc);
    }

    public static CpuBackend instance() {
        return INSTANCE;
    }

    /** The GEMM in use. */
    public Gemm gemmImpl() {
        return gemm;
    }

    /** Bytes held by the reusable kernel workspaces (im2col buffers), included in the memory statistics. */
    @Override
    public long workspaceBytes() {
        return Workspace.totalBytes();
    }

    /** What was tried when looking for OpenBLAS, and the outcome. */
    public OpenBlas.LoadResult blasLoad() {
        return blasLoad;
    }

    /** The cores and the engine's pool, the SIMD width, the Java heap, the host memory cache, and the BLAS in use (from where, how configured) or what was tried. */
    @Override
    public Diagnostics diagnostics() {
        Diagnostics.Builder d = Diagnostics.builder()
                .line("cores", Runtime.getRuntime().availableProcessors() + " available, engine pool " + Parallel.THREADS + " threads")
                .line("SIMD", FloatVector.SPECIES_PREFERRED.vectorBitSize() + "-bit vectors (" + FloatVector.SPECIES_PREFERRED.length()
                        + " floats) through the Vector API")
                .line("heap", (Runtime.getRuntime().maxMemory() >> 20) + " MiB max")
                .line("host cache", NativeMemory.cacheStats().describe());
        if (blasLoad.blas().isPresent()) {
            OpenBlas b = blasLoad.blas().get();
            String env = EngineConfig.current().openblasCoreType();
            d.line("BLAS", "OpenBLAS from " + b.path()).line("BLAS config", b.config())
                    .line("BLAS threads", b.threads() + " (" + NativeEnvironment.describe("OPENBLAS_THREAD_TIMEOUT") + ")")
                    .line("core type", b.coreName() + (env == null ? " (chosen by OpenBLAS; OPENBLAS_CORETYPE not set)"
                            : " (OPENBLAS_CORETYPE=" + env + " in the environment)"));
        } else {
            d.line("BLAS", "none loaded: GEMM falls back to the Vector API (slower)");
            for (String a : blasLoad.attempts()) d.line("  tried", a);
        }
        if (dnnlLoad.dnnl().isPresent()) {
            Dnnl o = dnnlLoad.dnnl().get();
            d.line("convolution", "oneDNN " + o.version() + " from " + o.path() + (EngineConfig.current().convMeasure() && CpuWinograd.enabled()
                    ? "; Winograd for the 3×3 stride-1 passes where it measures faster (advinterp.conv.measure)" : "")
                    + switch (CpuChannelsLast.MODE) {
                        case OFF -> "; activations NCHW throughout (advinterp.channels.last=off)";
                        case INFERENCE -> "; activations channels-last (NHWC) in forwards without autograd (advinterp.channels.last=inference)";
                        case ON -> "; activations channels-last (NHWC) in every pass (advinterp.channels.last=on)";
                    });
            d.line("oneDNN threads", "OpenMP, " + Dnnl.openMpSettings());
            // the rule DnnlPooling applies, shown on ResNet-18's max pool
            PoolGeometry stem = new PoolGeometry(8, 64, 112, 112, 3, 3, 2, 2, 1, 1);
            String impl = new DnnlPooling(o, new CpuPool(), false).implementation(true, stem).orElse("none");
            d.line("pooling", DnnlPooling.isJit(impl)
                    ? "max and average on oneDNN (" + impl + "; CpuPool where x holds a NaN), adaptive average in Java"
                    : "in Java (CpuPool): oneDNN has no JIT pooling kernel for NCHW on this CPU (" + impl + ")");
        } else {
            d.line("convolution", (CpuWinograd.enabled() ? "im2col/Winograd" : "im2col") + " + GEMM (oneDNN not loaded)");
            d.line("pooling", "in Java (CpuPool)");
            for (String a : dnnlLoad.attempts()) d.line("  tried", a);
        }
        return d.build();
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public String describe() {
        return "CPU, " + Parallel.THREADS + " threads; GEMM: " + gemm.describe() + "; convolution: "
                + dnnlLoad.dnnl().map(o -> "oneDNN " + o.version()).orElse("im2col + GEMM");
    }

    // ------------------------------------------------------------------ memory: the host's

    /** The host's memory: tensors made on this backend and those made before any backend are alike. */
    @Override
    public DeviceMemory home() {
        return HostMemory.INSTANCE;
    }

    @Override
    public MemorySegment allocate(long bytes) {
        return HostMemory.INSTANCE.allocate(bytes);
    }

    @Override
    public void free(MemorySegment segment) {
        HostMemory.INSTANCE.free(segment);
    }

    @Override
    public void writeFloats(float[] src, int srcOffset, MemorySegment dst, long dstByte, int count) {
        HostMemory.INSTANCE.writeFloats(src, srcOffset, dst, dstByte, count);
    }

    @Override
    public void readFloats(MemorySegment src, long srcByte, float[] dst, int dstOffset, int count) {
        HostMemory.INSTANCE.readFloats(src, srcByte, dst, dstOffset, count);
    }

    @Override
    public void copyBytes(MemorySegment src, long srcByte, MemorySegment dst, long dstByte, long bytes) {
        HostMemory.INSTANCE.copyBytes(src, srcByte, dst, dstByte, bytes);
    }

    @Override
    public void fillFloats(MemorySegment dst, long count, float value) {
        HostMemory.INSTANCE.fillFloats(dst, count, value);
    }
}
