package dev.advinterp.engine.backend.cuda;

import dev.advinterp.engine.backend.ConvGeometry;
import dev.advinterp.engine.backend.PoolGeometry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The cuDNN and cuBLAS bindings against the real libraries, on a machine with or without a GPU.
 * cuDNN keeps its descriptors on the host, so everything the backend sets up before a GPU call
 * (tensor, filter, convolution, pooling and batch-norm descriptors, with our enumeration values
 * and argument orders) is read back here through cuDNN's own getters, and cuDNN's output shapes
 * are compared with {@link ConvGeometry}'s and {@link PoolGeometry}'s. Without a GPU, the calls
 * that need one (cudnnCreate, cublasCreate_v2) must fail with the library's own status text.
 *
 * <p>Skipped, with the reason, where cuDNN 9 or cuBLAS is not found (see CudaLibraries for the
 * folders searched); {@code tools/cuda-host-libraries.sh} fetches both and runs this class.
 */
class CudaHostLibrariesTest {
    private static List<CudaLibraries.Found> libs;
    private static Cudnn dnn;
    private static String skip;
    private static final List<String> notes = new ArrayList<>();
    private static final Arena arena = Arena.ofShared();

    @BeforeAll
    static void load() {
        libs = CudaLibraries.discover();
        CudaLibraries.Found found = CudaLibraries.entry(libs, CudaLibraries.CUDNN);
        if (!found.present()) {
            skip = "cuDNN 9 (libcudnn.so.9) not found in " + found.searched()
                    + "; tools/cuda-host-libraries.sh fetches it and runs this test";
            System.out.println("CudaHostLibrariesTest skipped: " + skip);
            return;
        }
        dnn = Cudnn.withoutHandle(CudaLibraries.loadCudnn(libs, notes));
    }

    @AfterAll
    static void close() {
        if (dnn != null) dnn.close();
    }

    private static void assumeCudnn() {
        assumeTrue(dnn != null, () -> skip);
    }

    private static boolean gpuPresent() {
        return CudaProbe.probe().available();
    }

    // ---------------------------------------------------------------- cuDNN's getters, bound here only

    private static MethodHandle getter(String name, int outInts, MemoryLayout... leading) {
        MemoryLayout[] args = Arrays.copyOf(leading, leading.length + outInts);
        Arrays.fill(args, leading.length, args.length, ADDRESS);
        return NativeLibrary.load("cuDNN", dnn.path()).handle(name, FunctionDescriptor.of(JAVA_INT, args));
    }

    /** Calls {@code h} with the leading arguments and {@code n} int out-parameters; returns them. */
    private static int[] read(String name, MethodHandle h, int n, Object... leading) throws Throwable {
        MemorySegment[] outs = new MemorySegment[n];
        Object[] args = Arrays.copyOf(leading, leading.length + n);
        for (int i = 0; i < n; i++) {
            outs[i] = arena.allocate(JAVA_INT);
            outs[i].set(JAVA_INT, 0, -12345);
            args[leading.length + i] = outs[i];
        }
        dnn.check(name, (int) h.invokeWithArguments(args));
        int[] v = new int[n];
        for (int i = 0; i < n; i++) v[i] = outs[i].get(JAVA_INT, 0);
        return v;
    }

    // ---------------------------------------------------------------- loading

    @Test
    void loadsTheShimAndEverySubLibraryByPath() {
        assumeCudnn();
        assertEquals(List.of(), notes, "sub-libraries that did not load");
        String v = dnn.versionString();
        assertTrue(v.matches("9\\.\\d+\\.\\d+"), v);
        // the shim dlopens libcudnn_ops/_cnn by soname when a descriptor is first made; a
        // descriptor call that succeeds shows it found the objects loaded by path
        MemorySegment d = dnn.tensor4d(1, 1, 1, 1);
        dnn.destroyTensor(d);
    }

    // ---------------------------------------------------------------- descriptors as the backend makes them

    @Test
    void tensorDescriptorIsPackedFloatNchw() throws Throwable {
        assumeCudnn();
        MethodHandle get = getter("cudnnGetTensor4dDescriptor", 9, ADDRESS);
        MemorySegment d = dnn.tensor4d(2, 3, 5, 7);
        try {
            int[] v = read("cudnnGetTensor4dDescriptor", get, 9, d);
            assertArrayEquals(new int[]{Cudnn.CUDNN_DATA_FLOAT, 2, 3, 5, 7, 3 * 5 * 7, 5 * 7, 7, 1}, v,
                    "dataType, n, c, h, w, strides");
        } finally {
            dnn.destroyTensor(d);
        }
    }

    @Test
    void filterDescriptorKeepsKcHwOrder() throws Throwable {
        assumeCudnn();
        MethodHandle get = getter("cudnnGetFilter4dDescriptor", 6, ADDRESS);
        MemorySegment d = dnn.filter4d(64, 3, 7, 5);
        try {
            int[] v = read("cudnnGetFilter4dDescriptor", get, 6, d);
            assertArrayEquals(new int[]{Cudnn.CUDNN_DATA_FLOAT, Cudnn.CUDNN_TENSOR_NCHW, 64, 3, 7, 5}, v,
                    "dataType, format, k, c, h, w");
        } finally {
            dnn.destroyFilter(d);
        }
    }

    /** Geometries of the engine's models, plus asymmetric ones that catch a swapped H/W argument. */
    private static final ConvGeometry[] CONVS = {
            new ConvGeometry(8, 3, 224, 224, 64, 11, 11, 4, 4, 2, 2),   // AlexNet conv1
            new ConvGeometry(8, 3, 224, 224, 64, 7, 7, 2, 2, 3, 3),     // ResNet-18 stem
            new ConvGeometry(4, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1),      // ResNet-18 block
            new ConvGeometry(4, 64, 56, 56, 128, 1, 1, 2, 2, 0, 0),     // ResNet-18 downsample
            new ConvGeometry(2, 5, 17, 23, 6, 3, 5, 2, 3, 1, 2),        // asymmetric
            new ConvGeometry(1, 2, 9, 31, 3, 1, 4, 1, 5, 0, 3),         // asymmetric
    };

    @Test
    void convolutionPlanMatchesTheGeometry() throws Throwable {
        assumeCudnn();
        MethodHandle get = getter("cudnnGetConvolution2dDescriptor", 8, ADDRESS);
        MethodHandle math = getter("cudnnGetConvolutionMathType", 1, ADDRESS);
        MethodHandle groups = getter("cudnnGetConvolutionGroupCount", 1, ADDRESS);
        MethodHandle outDim = getter("cudnnGetConvolution2dForwardOutputDim", 4, ADDRESS, ADDRESS, ADDRESS);
        for (ConvGeometry g : CONVS) {
            CudaConvolution.ConvPlan p = new CudaConvolution.ConvPlan(dnn, g);
            try {
                assertArrayEquals(new int[]{g.padH(), g.padW(), g.strideH(), g.strideW(), 1, 1,
                                Cudnn.CUDNN_CROSS_CORRELATION, Cudnn.CUDNN_DATA_FLOAT},
                        read("cudnnGetConvolution2dDescriptor", get, 8, p.conv), "pad, stride, dilation, mode, compute of " + g);
                assertArrayEquals(new int[]{Cudnn.CUDNN_FMA_MATH}, read("cudnnGetConvolutionMathType", math, 1, p.conv));
                assertArrayEquals(new int[]{1}, read("cudnnGetConvolutionGroupCount", groups, 1, p.conv));
                assertArrayEquals(new int[]{g.n(), g.cOut(), g.outH(), g.outW()},
                        read("cudnnGetConvolution2dForwardOutputDim", outDim, 4, p.conv, p.x, p.w), "output of " + g);
            } finally {
                p.destroy(dnn);
            }
        }
    }

    private static final PoolGeometry[] POOLS = {
            new PoolGeometry(8, 64, 112, 112, 3, 3, 2, 2, 1, 1),   // ResNet-18 stem max pool
            new PoolGeometry(8, 64, 55, 55, 3, 3, 2, 2, 0, 0),     // AlexNet max pool
            new PoolGeometry(4, 512, 14, 14, 2, 2, 2, 2, 0, 0),    // VGG-16 max pool
            new PoolGeometry(2, 3, 11, 17, 3, 2, 1, 3, 1, 0),      // asymmetric
    };

    @Test
    void poolingPlanMatchesTheGeometryForBothModes() throws Throwable {
        assumeCudnn();
        MethodHandle get = getter("cudnnGetPooling2dDescriptor", 8, ADDRESS);
        MethodHandle outDim = getter("cudnnGetPooling2dForwardOutputDim", 4, ADDRESS, ADDRESS);
        for (int mode : new int[]{Cudnn.CUDNN_POOLING_MAX_DETERMINISTIC, Cudnn.CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING}) {
            for (PoolGeometry g : POOLS) {
                CudaPooling.PoolPlan p = new CudaPooling.PoolPlan(dnn, g, mode);
                try {
                    assertArrayEquals(new int[]{mode, Cudnn.CUDNN_PROPAGATE_NAN, g.kh(), g.kw(), g.padH(), g.padW(),
                            g.strideH(), g.strideW()}, read("cudnnGetPooling2dDescriptor", get, 8, p.pool), "mode " + mode + " " + g);
                    assertArrayEquals(new int[]{g.n(), g.c(), g.outH(), g.outW()},
                            read("cudnnGetPooling2dForwardOutputDim", outDim, 4, p.pool, p.x), "output of " + g);
                } finally {
                    p.destroy(dnn);
                }
            }
        }
    }

    @Test
    void batchNormParameterDescriptorIsTheOneCudnnDerives() throws Throwable {
        assumeCudnn();
        MethodHandle derive = NativeLibrary.load("cuDNN", dnn.path()).handle("cudnnDeriveBNTensorDescriptor",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        MethodHandle get = getter("cudnnGetTensor4dDescriptor", 9, ADDRESS);
        CudaBatchNorm.BnPlan p = new CudaBatchNorm.BnPlan(dnn, new CudaBatchNorm.BnKey(4, 96, 13 * 13));
        MemorySegment derived = dnn.tensor4d(1, 1, 1, 1);
        try {
            dnn.check("cudnnDeriveBNTensorDescriptor", (int) derive.invokeExact(derived, p.x, Cudnn.CUDNN_BATCHNORM_SPATIAL));
            assertArrayEquals(read("cudnnGetTensor4dDescriptor", get, 9, derived),
                    read("cudnnGetTensor4dDescriptor", get, 9, p.params));
            assertArrayEquals(new int[]{Cudnn.CUDNN_DATA_FLOAT, 4, 96, 169, 1, 96 * 169, 169, 1, 1},
                    read("cudnnGetTensor4dDescriptor", get, 9, p.x));
        } finally {
            dnn.destroyTensor(derived);
            p.destroy(dnn);
        }
    }

    // ---------------------------------------------------------------- errors carry cuDNN's and cuBLAS's own text

    @Test
    void badDescriptorIsAnErrorWithCudnnsStatusText() {
        assumeCudnn();
        CudaException e = assertThrows(CudaException.class, () -> dnn.tensor4d(0, 3, 5, 7));
        assertTrue(e.getMessage().contains("cudnnSetTensor4dDescriptor(0×3×5×7)"), e.getMessage());
        assertTrue(e.getMessage().contains("CUDNN_STATUS_BAD_PARAM"), e.getMessage());
    }

    @Test
    void withoutAGpuCudnnCreateFailsWithItsStatus() {
        assumeCudnn();
        assumeTrue(!gpuPresent(), "a GPU is present: cudnnCreate is exercised by CudaSmokeTest");
        CudaException e = assertThrows(CudaException.class, dnn::createAndDestroyHandle);
        assertTrue(e.getMessage().contains("cudnnCreate"), e.getMessage());
        assertTrue(e.getMessage().contains("CUDNN_STATUS_"), e.getMessage());
        assertNotEquals(0, e.status());
    }

    @Test
    void withoutAGpuCublasCreateFailsWithItsStatusName() {
        CudaLibraries.Found blas = CudaLibraries.entry(CudaLibraries.discover(), "libcublas.so");
        assumeTrue(blas != null && blas.present(), "cuBLAS (libcublas.so.13 or .12) not found; tools/cuda-host-libraries.sh fetches it");
        assumeTrue(!gpuPresent(), "a GPU is present: cublasCreate_v2 is exercised by CudaSmokeTest");
        java.nio.file.Path path = CudaLibraries.loadCublas(CudaLibraries.discover());
        CudaException e = assertThrows(CudaException.class, () -> new Cublas(path, MemorySegment.NULL).close());
        assertTrue(e.getMessage().contains("cublasCreate_v2"), e.getMessage());
        assertTrue(e.getMessage().contains("CUBLAS_STATUS_"), e.getMessage());
    }
}
