package dev.advinterp.engine;

import org.junit.jupiter.api.function.Executable;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Seeded inputs for the op tests, and the assertions they share. */
final class TestData {
    private TestData() {
    }

    static int numel(int... dims) {
        int n = 1;
        for (int d : dims) n *= d;
        return n;
    }

    static float[] uniform(SplittableRandom r, int n, double lo, double hi) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return v;
    }

    static float[] normal(SplittableRandom r, int n, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            double u1 = r.nextDouble(), u2 = r.nextDouble();
            v[i] = (float) (std * Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2));
        }
        return v;
    }

    /**
     * A shuffled progression (i − n/2)·step: all values distinct and at least {@code step} apart, so
     * a finite-difference nudge far smaller than step never changes which element is a maximum.
     */
    static float[] spaced(SplittableRandom r, int n, double step) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) ((i - n / 2) * step);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            float t = v[i];
            v[i] = v[j];
            v[j] = t;
        }
        return v;
    }

    /** Random sign and |x| in [min, max]: away from ReLU's kink at 0. */
    static float[] awayFromZero(SplittableRandom r, int n, double min, double max) {
        float[] v = uniform(r, n, min, max);
        for (int i = 0; i < n; i++) if (r.nextBoolean()) v[i] = -v[i];
        return v;
    }

    /**
     * Per channel of x viewed as [n, c, hw]: a shuffled evenly spread set of values with its own
     * centre and a spread of at least 1, so that no channel has a tiny variance (batch norm's
     * derivatives grow as 1/σ³ and would make central differences inaccurate).
     */
    static float[] perChannelSpread(SplittableRandom r, int n, int c, int hw) {
        float[] x = new float[n * c * hw];
        int m = n * hw;
        for (int ch = 0; ch < c; ch++) {
            double centre = r.nextDouble() * 2 - 1, spread = 1 + 2 * r.nextDouble();
            float[] s = spaced(r, m, 1.0);
            for (int b = 0; b < n; b++) {
                for (int k = 0; k < hw; k++) {
                    x[(b * c + ch) * hw + k] = (float) (centre + spread * s[b * hw + k] / Math.max(1, m - 1));
                }
            }
        }
        return x;
    }

    static int[] labels(SplittableRandom r, int n, int classes) {
        int[] l = new int[n];
        for (int i = 0; i < n; i++) l[i] = r.nextInt(classes);
        return l;
    }

    static double[] f64(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) d[i] = x[i];
        return d;
    }

    static double maxAbs(double[] x) {
        double m = 0;
        for (double v : x) m = Math.max(m, Math.abs(v));
        return m;
    }

    /**
     * Every element within {@code rel} of the largest reference magnitude. Relative to the largest
     * rather than to each element: an output that is a sum of terms may cancel to nearly 0, and its
     * float32 error is proportional to the terms, not to the result.
     */
    static void assertClose(String what, double[] expected, float[] actual, double rel) {
        assertEquals(expected.length, actual.length, what + ": number of elements");
        double tol = rel * Math.max(maxAbs(expected), 1e-12);
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
                fail(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i] + " (tolerance " + tol + ")");
            }
        }
    }

    /** Exactly the float32 rounding of the reference (ops that only select, copy or compare). */
    static void assertExact(String what, double[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + ": number of elements");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits((float) expected[i]) != Float.floatToIntBits(actual[i])) {
                fail(what + ": element " + i + " is " + actual[i] + ", expected exactly " + (float) expected[i]);
            }
        }
    }

    /**
     * The body throws {@code type} and the message contains every fragment (the op's name, the
     * shapes or values involved): an error must say what was wrong with which input.
     */
    static <T extends Throwable> T assertThrowsNaming(Class<T> type, Executable body, String... fragments) {
        T e = assertThrows(type, body);
        String m = e.getMessage();
        assertTrue(m != null, type.getSimpleName() + " without a message");
        for (String f : fragments) {
            assertTrue(m.contains(f), "message should name '" + f + "': " + m);
        }
        return e;
    }
}
