package dev.advinterp.nn.golden;

import dev.advinterp.nn.io.HostTensor;
import dev.advinterp.nn.io.SafeTensors;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The golden fixtures of tools/fixtures/make_model_fixtures.py and the comparison the tests
 * use. Relative error of a result a against PyTorch's b, per tensor:
 * {@code max|a − b| / max(max|b|, Float.MIN_NORMAL)}, in double.
 */
final class Golden {
    /** Parameters after the SGD step: all elements up to this many, else a sample (as the script). */
    static final int SAMPLES = 512;
    static final long SAMPLE_STRIDE = 1_000_003L;

    private Golden() {
    }

    static Path resource(String name) {
        URL url = Golden.class.getResource("/golden/" + name);
        if (url == null) {
            throw new IllegalStateException("test resource golden/" + name + " is missing: run /usr/bin/python3 tools/fixtures/make_model_fixtures.py");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A case file: its named arrays and its metadata. */
    record Case(String name, LinkedHashMap<String, HostTensor> arrays, Map<String, String> meta) {
        static Case read(String name) {
            Path p = resource(name + ".safetensors");
            try {
                return new Case(name, SafeTensors.read(p), SafeTensors.readHeader(p).metadata());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        HostTensor get(String key) {
            HostTensor t = arrays.get(key);
            assertNotNull(t, name + " has no array '" + key + "'");
            return t;
        }

        float[] floats(String key) {
            return get(key).toFloats();
        }

        int[] dims(String key) {
            return Arrays.stream(get(key).shape()).mapToInt(Math::toIntExact).toArray();
        }

        int[] labels() {
            return Arrays.stream(get("labels").toLongs()).mapToInt(Math::toIntExact).toArray();
        }

        int metaInt(String key) {
            String v = meta.get(key);
            assertNotNull(v, name + " has no metadata '" + key + "'");
            return Integer.parseInt(v);
        }
    }

    /** Index j of the sample of a tensor with numel elements. */
    static int sampleIndex(int j, long numel) {
        return numel <= SAMPLES ? j : (int) (j * SAMPLE_STRIDE % numel);
    }

    /** The values at the first {@code count} sample indices (all when the tensor is that small). */
    static float[] sample(float[] v, int count) {
        int n = (int) Math.min(count, Math.min(v.length, SAMPLES));
        float[] out = new float[n];
        for (int j = 0; j < n; j++) out[j] = v[sampleIndex(j, v.length)];
        return out;
    }

    static double relErr(float[] actual, float[] expected) {
        assertArrayEquals(new int[]{expected.length}, new int[]{actual.length}, "element count");
        double diff = 0, max = 0;
        for (int i = 0; i < expected.length; i++) {
            diff = Math.max(diff, Math.abs((double) actual[i] - expected[i]));
            max = Math.max(max, Math.abs((double) expected[i]));
        }
        return diff / Math.max(max, Float.MIN_NORMAL);
    }

    /** Asserts the relative error, prints it (the measured margins are worth seeing) and returns it. */
    static double assertClose(String what, float[] actual, float[] expected, double tolerance) {
        double e = relErr(actual, expected);
        System.out.printf("golden %-48s rel. error %.2e (tolerance %.0e)%n", what, e, tolerance);
        assertTrue(e < tolerance, what + ": relative error " + e + " is not below " + tolerance);
        return e;
    }

    /**
     * Elements allowed past the tolerance by {@link #assertCloseAcrossKinks}: one flipped unit moves
     * the gradient over its receptive field, which for a unit of VGG-16's fourth block is 60 to 92
     * pixels square, 7% to 17% of a 224×224 input, and for one of its fifth block 132 to 196 pixels
     * square. Measured on vgg16_bn (the flip-prone case: its formula weights and running statistics
     * put many pre-activations near zero): with im2col 0.5% of the input gradient moves; with
     * oneDNN's AVX-512 kernels (another float32 summation order than PyTorch's) 6.0%, all in one
     * region of 67×99 pixels; with its AVX2 kernels 13.3% (L2 9.4e-3), and vgg16 without batch
     * norm, exact with im2col, has one flip there too (0.9%). A wrong kernel moves every element.
     */
    static final double KINK_FRACTION = 0.25;
    /**
     * The bound on ‖a − b‖ / ‖b‖, in tolerances: the flips above move elements by at most 3% of the
     * maximum, an L2 error of 0.2% to 0.94%; a wrong kernel (a padding, a stride, an ε) gives tens of
     * percent.
     */
    static final double KINK_L2_TOLERANCES = 20;

    /**
     * For gradients through millions of ReLU and max-pool decisions (the full-size models), where some pre-activation lies within float32
     * rounding of its kink and may fall on the other side than in PyTorch: that unit's path then
     * opens or closes and the gradient moves by percents wherever the unit reaches, with no bug
     * anywhere (PyTorch's own float32 and float64 disagree that way on one unit of vgg16_bn at 224,
     * moving 0.4% of the input gradient by up to 2.4% of its maximum). A flip is local and a bug is
     * not, so this asserts that at most {@link #KINK_FRACTION} of the elements differ by more than
     * tolerance·max|b| and that the L2 relative error ‖a − b‖ / ‖b‖ is below {@link #KINK_L2_TOLERANCES}·tolerance; the
     * maximum relative error is printed.
     */
    static void assertCloseAcrossKinks(String what, float[] actual, float[] expected, double tolerance) {
        assertArrayEquals(new int[]{expected.length}, new int[]{actual.length}, "element count");
        double max = 0, diff2 = 0, norm2 = 0;
        for (float v : expected) max = Math.max(max, Math.abs((double) v));
        double limit = tolerance * Math.max(max, Float.MIN_NORMAL), worst = 0;
        int over = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) actual[i] - expected[i]);
            worst = Math.max(worst, d);
            if (d > limit) over++;
            diff2 += d * d;
            norm2 += (double) expected[i] * expected[i];
        }
        double fraction = over / (double) expected.length, l2 = Math.sqrt(diff2 / Math.max(norm2, Double.MIN_NORMAL));
        System.out.printf("golden %-48s rel. error %.2e, L2 %.2e, %.3f%% past %.0e%n", what,
                worst / Math.max(max, Float.MIN_NORMAL), l2, 100 * fraction, tolerance);
        assertTrue(fraction <= KINK_FRACTION, what + ": " + over + " of " + expected.length + " elements differ by more than "
                + tolerance + "·max|expected|, more than a flipped unit's receptive field explains");
        assertTrue(l2 < KINK_L2_TOLERANCES * tolerance, what + ": L2 relative error " + l2 + " is not below " + KINK_L2_TOLERANCES * tolerance);
    }
}
