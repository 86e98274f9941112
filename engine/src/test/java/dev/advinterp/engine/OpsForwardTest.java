package dev.advinterp.engine;

import dev.advinterp.engine.backend.DropoutMask;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.SplittableRandom;
import java.util.stream.Stream;

import static dev.advinterp.engine.TestData.*;
import static org.junit.jupiter.api.Assertions.*;

/** Forward of the dense, elementwise, shape and selection ops against {@link Ref64}. */
class OpsForwardTest {

    record MatmulCase(int m, int k, int n, long seed) {
    }

    static Stream<MatmulCase> matmulCases() {
        return Cases.draw(301, 25, d -> new MatmulCase(d.between(1, 48), d.between(1, 48), d.between(1, 48), d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("matmulCases")
    void matmulMatchesReference(MatmulCase c) {
        int m = c.m(), k = c.k(), n = c.n();
        long seed = c.seed();
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = normal(r, m * k, 1), b = normal(r, k * n, 1);
        try (var s = Scope.open()) {
            Tensor y = Ops.matmul(Tensor.of(a, m, k), Tensor.of(b, k, n));
            assertEquals(Shape.of(m, n), y.shape());
            // float32 dot products of at most 48 terms: ~1e-6 of the largest output
            assertClose("matmul", Ref64.matmul(f64(a), f64(b), m, k, n), y.toArray(), GradCheck.FORWARD_REL);
        }
    }

    record LinearCase(int n, int in, int out, boolean withBias, long seed) {
    }

    static Stream<LinearCase> linearCases() {
        return Cases.draw(302, 25, d -> new LinearCase(d.between(1, 40), d.between(1, 40), d.between(1, 40), d.bool(), d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("linearCases")
    void linearMatchesReference(LinearCase c) {
        int n = c.n(), in = c.in(), out = c.out();
        boolean withBias = c.withBias();
        long seed = c.seed();
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = normal(r, n * in, 1), w = normal(r, out * in, 1), b = normal(r, out, 1);
        try (var s = Scope.open()) {
            Tensor y = Ops.linear(Tensor.of(x, n, in), Tensor.of(w, out, in), withBias ? Tensor.of(b, out) : null);
            assertEquals(Shape.of(n, out), y.shape());
            // as matmul: short float32 dot products
            assertClose("linear", Ref64.linear(f64(x), f64(w), withBias ? f64(b) : null, n, in, out), y.toArray(),
                    GradCheck.FORWARD_REL);
        }
    }

    record ReluCase(int rows, int cols, long seed) {
    }

    static Stream<ReluCase> reluCases() {
        return Cases.draw(303, 20, d -> new ReluCase(d.between(1, 5), d.between(1, 300), d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("reluCases")
    void reluIsExact(ReluCase c) {
        int rows = c.rows(), cols = c.cols();
        long seed = c.seed();
        float[] x = normal(new SplittableRandom(seed), rows * cols, 1);
        try (var s = Scope.open()) {
            // max(0, x) involves no rounding
            assertExact("relu", Ref64.relu(f64(x)), Ops.relu(Tensor.of(x, rows, cols)).toArray());
        }
    }

    @Test
    void reluOnSeveralParallelBlocksWithATail() {
        // 100 003 elements: several 32768-element blocks on the pool and a tail shorter than a vector
        float[] x = normal(new SplittableRandom(1), 100_003, 1);
        try (var s = Scope.open()) {
            assertExact("relu", Ref64.relu(f64(x)), Ops.relu(Tensor.of(x, 100_003)).toArray());
        }
    }

    record AddSubScaleCase(int a0, int a1, float factor, long seed) {
    }

    static Stream<AddSubScaleCase> addSubScaleCases() {
        return Cases.draw(304, 25, d -> new AddSubScaleCase(d.between(1, 4), d.between(1, 700), d.between(-4f, 4f), d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("addSubScaleCases")
    void addSubScaleAreExactlyRounded(AddSubScaleCase c) {
        int a0 = c.a0(), a1 = c.a1();
        float factor = c.factor();
        long seed = c.seed();
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = uniform(r, a0 * a1, -1, 1), b = uniform(r, a0 * a1, -1, 1);
        try (var s = Scope.open()) {
            Tensor ta = Tensor.of(a, a0, a1), tb = Tensor.of(b, a0, a1);
            // one float32 operation per element: the float64 result rounded once, bit for bit
            assertExact("add", Ref64.axpby(1, f64(a), 1, f64(b)), Ops.add(ta, tb).toArray());
            assertExact("sub", Ref64.axpby(1, f64(a), -1, f64(b)), Ops.sub(ta, tb).toArray());
            double[] scaled = f64(a);
            for (int i = 0; i < scaled.length; i++) scaled[i] *= factor;
            assertExact("scale", scaled, Ops.scale(ta, factor).toArray());
        }
    }

    record SumCase(int n, long seed) {
    }

    static Stream<SumCase> sumCases() {
        return Cases.draw(305, 20, d -> new SumCase(d.between(1, 120_000), d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sumCases")
    void sumMatchesReference(SumCase c) {
        int n = c.n();
        long seed = c.seed();
        float[] x = uniform(new SplittableRandom(seed), n, -1, 1);
        double ref = Ref64.sum(f64(x)), abs = 0;
        for (float v : x) abs += Math.abs(v);
        try (var s = Scope.open()) {
            Tensor y = Ops.sum(Tensor.of(x, n));
            assertEquals(Shape.of(1), y.shape());
            // summed in float64 then rounded to float32: one float32 rounding plus float64 noise of the terms
            assertEquals(ref, y.item(), 1e-6 * Math.abs(ref) + 1e-12 * abs);
        }
    }

    record RowNormsCase(int rows, int c, int h, int w, long seed) {
    }

    static Stream<RowNormsCase> rowNormsCases() {
        return Cases.draw(310, 20, d -> new RowNormsCase(d.between(1, 6), d.between(1, 4), d.between(1, 40), d.between(1, 40), d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rowNormsCases")
    void rowNormsMatchTheReference(RowNormsCase c) {
        int n = c.rows() * c.c() * c.h() * c.w();
        float[] x = normal(new SplittableRandom(c.seed()), n, 1);
        for (int j = 0; j < n / c.rows(); j++) x[j] = 0f; // a row of zeros: norm 0
        try (var s = Scope.open()) {
            Tensor y = Ops.rowNorms(Tensor.of(x, c.rows(), c.c(), c.h(), c.w()));
            assertEquals(Shape.of(c.rows()), y.shape());
            // summed in float64, one float32 rounding of the root
            assertClose("rowNorms " + c, Ref64.rowNorms(f64(x), c.rows()), y.toArray(), 1e-7);
            assertEquals(0f, y.get(0));
        }
    }

    @Test
    void reshapeAndFlattenKeepValuesAndShareStorage() {
        float[] x = uniform(new SplittableRandom(2), 2 * 3 * 4 * 5, -1, 1);
        try (var s = Scope.open()) {
            Tensor t = Tensor.of(x, 2, 3, 4, 5);
            Tensor flat = Ops.flatten(t);
            assertEquals(Shape.of(2, 60), flat.shape());
            assertArrayEquals(x, flat.toArray());
            Tensor inferred = Ops.reshape(t, -1, 4, 5);
            assertEquals(Shape.of(6, 4, 5), inferred.shape());
            assertEquals(Shape.of(120), Ops.reshape(t, 120).shape());
            // a write through the view is visible in the original: reshape copies nothing
            flat.copyFrom(Tensor.zeros(2, 60));
            assertArrayEquals(new float[120], t.toArray());
        }
    }

    record ArgmaxCase(int rows, int cols, long seed) {
    }

    static Stream<ArgmaxCase> argmaxCases() {
        return Cases.draw(306, 25, d -> new ArgmaxCase(d.between(1, 20), d.between(1, 30), d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("argmaxCases")
    void argmaxTakesTheFirstMaximum(ArgmaxCase c) {
        int rows = c.rows(), cols = c.cols();
        long seed = c.seed();
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) x[i] = r.nextInt(5); // few distinct values: many ties
        try (var s = Scope.open()) {
            assertArrayEquals(Ref64.argmax(f64(x), rows, cols), Ops.argmax(Tensor.of(x, rows, cols)));
        }
    }

    record TopkCase(int rows, int cols, int kRaw, boolean ties, long seed) {
    }

    static Stream<TopkCase> topkCases() {
        return Cases.draw(307, 25, d -> new TopkCase(d.between(1, 12), d.between(1, 40), d.between(1, 40), d.bool(), d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("topkCases")
    void topkMatchesASortOfEachRow(TopkCase c) {
        int rows = c.rows(), cols = c.cols(), kRaw = c.kRaw();
        boolean ties = c.ties();
        long seed = c.seed();
        int k = 1 + (kRaw - 1) % cols;
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = ties ? new float[rows * cols] : normal(r, rows * cols, 1);
        if (ties) for (int i = 0; i < x.length; i++) x[i] = r.nextInt(4);
        try (var s = Scope.open()) {
            Ops.TopK top = Ops.topk(Tensor.of(x, rows, cols), k);
            int[] want = Ref64.topkIndices(f64(x), rows, cols, k);
            assertArrayEquals(want, top.indices(), "indices: by value descending, lower index first on ties");
            for (int row = 0; row < rows; row++) {
                for (int j = 0; j < k; j++) {
                    assertEquals(want[row * k + j], top.index(row, j));
                    assertEquals(x[row * cols + want[row * k + j]], top.value(row, j));
                }
            }
        }
    }

    // ---------------------------------------------------------------- dropout

    record DropoutCase(int n, float p, long seed) {
    }

    static Stream<DropoutCase> dropoutCases() {
        return Cases.draw(308, 20, d -> new DropoutCase(d.between(1, 3000), d.between(0.05f, 0.9f), d.seed()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dropoutCases")
    void dropoutKeepsWithTheSeededMaskAndScales(DropoutCase c) {
        int n = c.n();
        float p = c.p();
        long seed = c.seed();
        float[] x = awayFromZero(new SplittableRandom(seed), n, 0.1, 2);
        try (var s = Scope.open()) {
            float[] y = Ops.dropout(Tensor.of(x, n), p, seed, true).toArray();
            for (int i = 0; i < n; i++) {
                if (DropoutMask.keep(seed, i, p)) {
                    // x·(1/(1 − p)) in float32 against x/(1 − p) in float64: two roundings
                    assertEquals(x[i] / (1.0 - p), y[i], 1e-6 * Math.abs(x[i] / (1.0 - p)), "kept element " + i);
                } else {
                    assertEquals(0f, y[i], "dropped element " + i);
                }
            }
        }
    }

    @Test
    void dropoutMaskIsAPureFunctionOfTheSeed() {
        int n = 70_001; // several blocks on the pool: the mask must not depend on how the work is split
        SplittableRandom r = new SplittableRandom(3);
        float[] x1 = awayFromZero(r, n, 0.5, 1), x2 = awayFromZero(r, n, 0.5, 1);
        float p = 0.3f;
        try (var s = Scope.open()) {
            float[] a = Ops.dropout(Tensor.of(x1, n), p, 42, true).toArray();
            float[] again = Ops.dropout(Tensor.of(x1, n), p, 42, true).toArray();
            float[] otherValues = Ops.dropout(Tensor.of(x2, n), p, 42, true).toArray();
            float[] otherSeed = Ops.dropout(Tensor.of(x1, n), p, 43, true).toArray();
            assertArrayEquals(a, again, "same seed, same input: same bits");
            int kept = 0, differ = 0;
            for (int i = 0; i < n; i++) {
                assertEquals(a[i] == 0f, otherValues[i] == 0f, "the mask does not depend on the values, element " + i);
                assertEquals(DropoutMask.keep(42, i, p), a[i] != 0f, "the documented mask function, element " + i);
                if (a[i] != 0f) kept++;
                if ((a[i] == 0f) != (otherSeed[i] == 0f)) differ++;
            }
            // binomial(n, 0.7): 5 standard deviations is about 600
            assertEquals(0.7 * n, kept, 5 * Math.sqrt(n * 0.21));
            assertTrue(differ > n / 10, "another seed gives another mask (" + differ + " of " + n + " differ)");
        }
    }

    @Test
    void dropoutIsTheIdentityInEvaluationAndAtZero() {
        float[] x = normal(new SplittableRandom(4), 50, 1);
        try (var s = Scope.open()) {
            Tensor t = Tensor.of(x, 5, 10);
            assertArrayEquals(x, Ops.dropout(t, 0.5f, 7, false).toArray());
            assertArrayEquals(x, Ops.dropout(t, 0f, 7, true).toArray());
            assertEquals(t.shape(), Ops.dropout(t, 0.5f, 7, false).shape());
        }
    }
}
