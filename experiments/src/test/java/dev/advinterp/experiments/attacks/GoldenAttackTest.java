package dev.advinterp.experiments.attacks;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.io.HostTensor;
import dev.advinterp.nn.io.SafeTensors;
import dev.advinterp.nn.io.TorchCheckpoint;
import dev.advinterp.nn.models.Architecture;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.models.ModelConfig;
import dev.advinterp.nn.models.Models;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The attacks against PyTorch's float32 results (tools/fixtures/make_attack_fixtures.py, whose
 * docstring defines the files) on two of the golden model fixtures, with the same weights (the
 * models' .pth files) and inputs.
 *
 * <p>An L∞ step moves each pixel by ±α by the sign of its gradient, so a pixel whose gradient is
 * within rounding of 0, or whose sign changes when a ReLU or max-pool decision within rounding of
 * its kink falls the other way, may move the other way here than in PyTorch with no bug. For every
 * step the fixture records the sign PyTorch took and whether it was well defined: the same in
 * float64 and with each near-kink decision flipped alone, and at least {@link #SIGN_TOLERANCE} of
 * the image's largest |g| away from 0. The mask rule: a pixel of an adversarial image is compared
 * only if its sign was well defined at every step of the attack; it must then equal PyTorch's to
 * {@link #PIXEL_TOL}. Fewer than {@link #MAX_UNDEFINED_STEP} of the pixels of any step, and fewer
 * than {@link #MAX_UNDEFINED} over all steps, may be left out, so the rule cannot hide a wrong
 * attack. Per-image success flags and ILLC's targets must equal PyTorch's exactly.
 *
 * <p>Iterative attacks are checked twice. Step by step: from each of PyTorch's iterates (replayed
 * from the recorded signs), the step the attacks take must reach PyTorch's next iterate on every
 * pixel whose sign was well defined at that step, for every image. And as a whole: the attack's
 * output against PyTorch's. A whole run can legitimately diverge: once an undefined pixel moved the
 * other way, the next gradients differ and the difference spreads over the image. So an image that
 * differs on a compared pixel is traced (the attack run for 1, 2, ... steps against PyTorch's
 * iterates) and left out only if its first difference lies on pixels whose sign was undefined at
 * that step; at least one image per attack must follow PyTorch to the end.
 *
 * <p>PgdL2 steps along g/‖g‖, continuous in g, but a decision near its kink that falls the other
 * way moves the whole step by up to a few 1e-4 per pixel, and later steps would spread that. So it
 * runs one step (random start, step, projection, clip) and each pixel may differ from PyTorch's by
 * {@link #PIXEL_TOL} plus the fixture's {@code pgdl2.slack}: how far flipping any one of those
 * decisions, or computing in float64, moves that pixel's step.
 */
class GoldenAttackTest {
    static final double PIXEL_TOL = 1e-5;
    static final double SIGN_TOLERANCE = 1e-4;
    static final double MAX_UNDEFINED_STEP = 0.01, MAX_UNDEFINED = 0.05;
    /** Images per attack that may diverge from PyTorch at an undefined sign (of 4). */
    static final int MAX_DIVERGED = 3;

    /** One model's attack fixture and the model it was computed on (also read by the other golden attack tests). */
    record Fixture(String model, Map<String, HostTensor> arrays, Map<String, String> meta) {
        static Fixture read(String model) throws IOException {
            return read(model, model, "make_attack_fixtures.py");
        }

        /** The fixture golden-attacks/{@code file}.safetensors of {@code model}, written by tools/fixtures/{@code script}. */
        static Fixture read(String model, String file, String script) throws IOException {
            URL url = GoldenAttackTest.class.getResource("/golden-attacks/" + file + ".safetensors");
            assertNotNull(url, "test resource golden-attacks/" + file + ".safetensors is missing: run "
                    + "/usr/bin/python3 tools/fixtures/" + script);
            Path p;
            try {
                p = Path.of(url.toURI());
            } catch (URISyntaxException e) {
                throw new IllegalStateException(e);
            }
            Fixture f = new Fixture(model, SafeTensors.read(p), SafeTensors.readHeader(p).metadata());
            assertEquals(SIGN_TOLERANCE, Double.parseDouble(f.meta().get("sign_tolerance")), model + ": the fixture's sign tolerance");
            return f;
        }

        HostTensor get(String key) {
            HostTensor t = arrays.get(key);
            assertNotNull(t, model + " attack fixture has no array '" + key + "'");
            return t;
        }

        float[] floats(String key) {
            return get(key).toFloats();
        }

        int[] ints(String key) {
            return Arrays.stream(get(key).toLongs()).mapToInt(Math::toIntExact).toArray();
        }

        boolean[] flags(String key) {
            int[] v = ints(key);
            boolean[] b = new boolean[v.length];
            for (int i = 0; i < v.length; i++) b[i] = v[i] != 0;
            return b;
        }

        int meta(String key) {
            String v = meta.get(key);
            assertNotNull(v, model + " attack fixture has no metadata '" + key + "'");
            return Integer.parseInt(v);
        }

        int[] dims() {
            return Arrays.stream(get("input").shape()).mapToInt(Math::toIntExact).toArray();
        }

        Tensor input() {
            return Tensor.of(floats("input"), dims());
        }

        /** The golden model, from the nn module's fixtures (Maven runs tests in the module's folder). */
        ImageModel loadModel() throws IOException {
            Path pth = Path.of("").toAbsolutePath().resolveSibling("nn").resolve("src/test/resources/golden").resolve(model + ".pth");
            assertTrue(Files.isRegularFile(pth), "model fixture " + pth + " is missing: run the tests from the repository with Maven");
            ModelConfig config = new ModelConfig(Architecture.parse(meta.get("arch")), meta("channels"), meta("size"), meta("classes"),
                    floats("mean"), floats("std"), 0L);
            ImageModel m = Models.create(config);
            m.loadStateDict(TorchCheckpoint.read(pth), true);
            m.eval();
            return m;
        }
    }

    /**
     * A sign-stepping attack as the fixture records it: its key, the key of its steps, the start
     * of its iterates, its step α and radius ε in [0, 1] units, and the same attack stopped after
     * k steps (null for FGSM, which has one).
     */
    private record SignAttack(Attack attack, String key, String stepsKey, float[] start, float alpha, float eps, int steps,
                              IntFunction<Attack> firstSteps) {
    }

    static String where(int flat, int[] dims) {
        int[] idx = new int[dims.length];
        for (int k = dims.length - 1; k >= 0; k--) {
            idx[k] = flat % dims[k];
            flat /= dims[k];
        }
        return Arrays.toString(idx);
    }

    private static void checkSignAttack(Fixture f, ImageModel model, SignAttack a, int[] labels) {
        String what = f.model() + " " + a.attack().name();
        int[] dims = f.dims();
        int n = dims[0], numel = (int) Arrays.stream(dims).asLongStream().reduce(1, (x, y) -> x * y), per = numel / n;
        int steps = a.steps();
        int[] codes = unpackSteps(f.ints(a.stepsKey()), steps, numel, what);

        boolean[] compared = new boolean[numel];
        Arrays.fill(compared, true);
        for (int k = 0; k < steps; k++) {
            int undefined = 0;
            for (int i = 0; i < numel; i++) {
                if (undefined(codes, k, numel, i)) {
                    undefined++;
                    compared[i] = false;
                }
            }
            assertTrue(undefined < MAX_UNDEFINED_STEP * numel, what + ": the sign of " + undefined + " of " + numel
                    + " pixels is not well defined at step " + (k + 1) + ", too many for the comparison to mean much");
        }
        int masked = 0;
        for (boolean c : compared) if (!c) masked++;
        assertTrue(masked < MAX_UNDEFINED * numel, what + ": " + masked + " of " + numel + " pixels are left out");

        Tensor x = f.input();
        List<float[]> iterates = replay(a, codes, steps, numel, dims, x);
        double stepWorst = a.firstSteps() == null ? 0 : checkEachStep(what, model, x, labels, a, codes, iterates, numel, dims);

        AttackResult r = a.attack().run(model, x, labels);
        float[] actual = r.adversarial().toArray(), expected = f.floats(a.key() + ".adv");
        assertEquals(numel, actual.length, what + ": element count");
        assertArrayEquals(expected, iterates.get(steps), (float) PIXEL_TOL / 10, what + ": the fixture's signs replay to its adversarial images");
        TreeMap<Integer, Integer> differing = new TreeMap<>();
        for (int i = 0; i < numel; i++) {
            if (compared[i] && Math.abs((double) actual[i] - expected[i]) > PIXEL_TOL) differing.putIfAbsent(i / per, i);
        }
        List<Integer> excused = new ArrayList<>();
        if (!differing.isEmpty()) {
            if (a.firstSteps() == null) {
                int at = differing.firstEntry().getValue();
                fail(what + ": pixel " + where(at, dims) + " is " + actual[at] + ", PyTorch has " + expected[at]
                        + ", and its gradient's sign was well defined");
            }
            excused = traceDivergence(what, model, x, labels, a, codes, iterates, numel, per, dims, differing.keySet(), actual);
            assertTrue(excused.size() <= MAX_DIVERGED, what + ": images " + excused + " diverged from PyTorch at an undefined sign; "
                    + "at most " + MAX_DIVERGED + " may, or too little of the attack is compared to its end");
        }
        double worst = 0;
        for (int i = 0; i < numel; i++) {
            if (compared[i] && !excused.contains(i / per)) worst = Math.max(worst, Math.abs((double) actual[i] - expected[i]));
        }
        System.out.printf("golden attack %-44s max |diff| %.2e (tolerance %.0e)%s, %.2f%% of the pixels left out%s%n", what, worst,
                PIXEL_TOL, a.firstSteps() == null ? "" : String.format(", each step from PyTorch's iterate %.2e", stepWorst),
                100.0 * masked / numel, excused.isEmpty() ? "" : ", images " + excused + " diverged at an undefined sign");
        assertTrue(worst <= PIXEL_TOL, what + ": max |diff| " + worst);
        boolean[] success = f.flags(a.key() + ".success");
        for (int i = 0; i < n; i++) {
            if (!excused.contains(i)) assertEquals(success[i], r.success()[i], what + ": success of image " + i);
        }
    }

    /**
     * The fixture's steps array, two steps per byte (code 1 + sign + 3·undefined of step 2r in the
     * low four bits of row r, of step 2r + 1 in the high four), as one code per step and pixel.
     */
    private static int[] unpackSteps(int[] packed, int steps, int numel, String what) {
        assertEquals((long) (steps + 1) / 2 * numel, packed.length, what + ": the fixture's steps do not match the attack's " + steps);
        int[] codes = new int[steps * numel];
        for (int k = 0; k < steps; k++) {
            for (int i = 0; i < numel; i++) codes[k * numel + i] = (packed[(k / 2) * numel + i] >> (4 * (k % 2))) & 0xF;
        }
        return codes;
    }

    private static boolean undefined(int[] codes, int step, int numel, int i) {
        return codes[step * numel + i] >= 3;
    }

    private static float sign(int[] codes, int step, int numel, int i) {
        return codes[step * numel + i] % 3 - 1;
    }

    /** PyTorch's iterates 0..steps, from the start and the recorded signs (the fixture checks that they replay). */
    private static List<float[]> replay(SignAttack a, int[] codes, int steps, int numel, int[] dims, Tensor x0) {
        List<float[]> out = new ArrayList<>();
        out.add(a.start().clone());
        try (Scope s = Scope.open()) {
            Tensor cur = Tensor.of(a.start(), dims);
            for (int k = 0; k < steps; k++) {
                float[] sign = new float[numel];
                for (int i = 0; i < numel; i++) sign[i] = sign(codes, k, numel, i);
                Ops.fgsmStep(cur, Tensor.of(sign, dims), x0, a.alpha(), a.eps(), Bounds.LO, Bounds.HI);
                out.add(cur.toArray());
            }
        }
        return out;
    }

    /**
     * Every step of every image on its own: from PyTorch's iterate k, the step the attacks take
     * (the mean cross-entropy's input gradient, then the fused FGSM step) must reach PyTorch's
     * iterate k + 1 on every pixel whose sign was well defined at that step. A divergence of the
     * whole attack cannot hide a wrong step this way. Returns the largest difference.
     */
    private static double checkEachStep(String what, ImageModel model, Tensor x0, int[] labels, SignAttack a, int[] codes,
                                        List<float[]> iterates, int numel, int[] dims) {
        double worst = 0;
        for (int k = 0; k + 1 < iterates.size(); k++) {
            try (Scope s = Scope.open()) {
                Tensor cur = Tensor.of(iterates.get(k), dims);
                Tensor g = InputGradients.ofCrossEntropy(model, cur, labels);
                Ops.fgsmStep(cur, g, x0, a.alpha(), a.eps(), Bounds.LO, Bounds.HI);
                float[] actual = cur.toArray(), expected = iterates.get(k + 1);
                for (int i = 0; i < numel; i++) {
                    if (undefined(codes, k, numel, i)) continue;
                    double d = Math.abs((double) actual[i] - expected[i]);
                    worst = Math.max(worst, d);
                    if (d > PIXEL_TOL) {
                        fail(what + ": step " + (k + 1) + " from PyTorch's iterate moves pixel " + where(i, dims) + " to " + actual[i]
                                + ", PyTorch to " + expected[i] + ", and its gradient's sign was well defined");
                    }
                }
            }
        }
        return worst;
    }

    /**
     * Finds, for each image that ends up differing, the first step at which the attack (run for 1,
     * 2, ... steps) leaves PyTorch's iterates, and returns those images if every such first
     * difference lies on pixels whose sign was undefined at that step; fails otherwise.
     */
    private static List<Integer> traceDivergence(String what, ImageModel model, Tensor x, int[] labels, SignAttack a, int[] codes,
                                                 List<float[]> iterates, int numel, int per, int[] dims, Iterable<Integer> images,
                                                 float[] finalIterate) {
        List<Integer> open = new ArrayList<>();
        images.forEach(open::add);
        List<Integer> excused = new ArrayList<>();
        int steps = iterates.size() - 1;
        for (int k = 0; k < steps && !open.isEmpty(); k++) {
            try (Scope s = Scope.open()) {
                float[] expected = iterates.get(k + 1);
                float[] actual = k == steps - 1 ? finalIterate : a.firstSteps().apply(k + 1).perturb(model, x, labels).toArray();
                for (int img : List.copyOf(open)) {
                    int first = -1;
                    for (int i = img * per; i < (img + 1) * per; i++) {
                        if (Math.abs((double) actual[i] - expected[i]) <= PIXEL_TOL) continue;
                        if (first < 0) first = i;
                        if (!undefined(codes, k, numel, i)) {
                            fail(what + ": image " + img + " first leaves PyTorch's iterates at step " + (k + 1) + ", at pixel " + where(i, dims)
                                    + " (" + actual[i] + ", PyTorch " + expected[i] + ") whose gradient's sign was well defined there");
                        }
                    }
                    if (first >= 0) {
                        System.out.printf("golden attack %-44s image %d leaves PyTorch's iterates at step %d, first at %s, an undefined sign%n",
                                what, img, k + 1, where(first, dims));
                        open.remove(Integer.valueOf(img));
                        excused.add(img);
                    }
                }
            }
        }
        assertTrue(open.isEmpty(), what + ": images " + open + " differ at the end but never in the step-by-step run");
        return excused;
    }

    /** IterativeFgsm's random start, for replaying PyTorch's PGD iterates. */
    private static float[] pgdStart(float[] x, float epsPixels, long seed) {
        float eps = epsPixels / 255f;
        float[] v = x.clone();
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < v.length; i++) v[i] = Math.min(1f, Math.max(0f, v[i] + (float) ((2 * r.nextDouble() - 1) * eps)));
        return v;
    }

    private static SignAttack iterative(IterativeFgsm it, Attack attack, String key, float[] start) {
        return new SignAttack(attack, key, key + ".steps", start, (it.targeted() ? -1 : 1) * it.stepPixels() / 255f, it.epsPixels() / 255f,
                it.steps(), k -> new IterativeFgsm(it.epsPixels(), it.stepPixels(), k, it.randomStart(), it.seed(), it.targeted(), it.trainingMode()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet18_c3s32", "alexnet_c3s32"})
    void fgsmMatchesPyTorch(String name) throws IOException {
        Fixture f = Fixture.read(name);
        try (ImageModel model = f.loadModel(); Scope s = Scope.open()) {
            for (int eps : new int[]{1, 8}) {
                SignAttack a = new SignAttack(new Fgsm(eps), "fgsm" + eps, "fgsm.steps", f.floats("input"), eps / 255f, eps / 255f, 1, null);
                checkSignAttack(f, model, a, f.ints("labels"));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet18_c3s32", "alexnet_c3s32"})
    void bimMatchesPyTorch(String name) throws IOException {
        Fixture f = Fixture.read(name);
        try (ImageModel model = f.loadModel(); Scope s = Scope.open()) {
            IterativeFgsm bim = IterativeFgsm.bim(4f);
            assertEquals(5, bim.steps(), "Kurakin's iterations at ε = 4");
            checkSignAttack(f, model, iterative(bim, bim, "bim4", f.floats("input")), f.ints("labels"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet18_c3s32", "alexnet_c3s32"})
    void pgdMatchesPyTorch(String name) throws IOException {
        Fixture f = Fixture.read(name);
        try (ImageModel model = f.loadModel(); Scope s = Scope.open()) {
            IterativeFgsm pgd = IterativeFgsm.pgd(4f, 1f, 5, f.meta("pgd_seed"));
            checkSignAttack(f, model, iterative(pgd, pgd, "pgd4", pgdStart(f.floats("input"), 4f, pgd.seed())), f.ints("labels"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet18_c3s32", "alexnet_c3s32"})
    void leastLikelyClassMatchesPyTorch(String name) throws IOException {
        Fixture f = Fixture.read(name);
        try (ImageModel model = f.loadModel(); Scope s = Scope.open()) {
            LeastLikelyClass illc = new LeastLikelyClass(4f);
            int[] targets = illc.targets(model, f.input());
            assertArrayEquals(f.ints("illc4.targets"), targets, name + ": ILLC targets (argmin of the clean logits)");
            // the steps ILLC takes internally: targeted BIM towards the fixed targets
            IterativeFgsm steps = new IterativeFgsm(4f, 1f, IterativeFgsm.kurakinIterations(4f), false, 0, true, false);
            checkSignAttack(f, model, iterative(steps, illc, "illc4", f.floats("input")), targets);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet18_c3s32", "alexnet_c3s32"})
    void pgdL2MatchesPyTorch(String name) throws IOException {
        Fixture f = Fixture.read(name);
        try (ImageModel model = f.loadModel(); Scope s = Scope.open()) {
            PgdL2 attack = new PgdL2(64f, 16f, 1, f.meta("pgd_seed"), false);
            String what = name + " " + attack.name();
            AttackResult r = attack.run(model, f.input(), f.ints("labels"));
            float[] actual = r.adversarial().toArray(), expected = f.floats("pgdl2.adv"), slack = f.floats("pgdl2.slack");
            int[] dims = f.dims();
            double worst = 0, worstSlack = 0;
            int loose = 0;
            for (int i = 0; i < expected.length; i++) {
                double d = Math.abs((double) actual[i] - expected[i]);
                if (d > PIXEL_TOL + slack[i]) {
                    fail(what + ": pixel " + where(i, dims) + " is " + actual[i] + ", PyTorch has " + expected[i] + " (|diff| " + d
                            + ", allowed " + PIXEL_TOL + " + " + slack[i] + " for the decisions near a kink)");
                }
                worst = Math.max(worst, d);
                worstSlack = Math.max(worstSlack, slack[i]);
                if (slack[i] > PIXEL_TOL) loose++;
            }
            System.out.printf("golden attack %-44s max |diff| %.2e (tolerance %.0e plus up to %.1e on the %.1f%% of the pixels a near-kink "
                    + "decision can move more)%n", what, worst, PIXEL_TOL, worstSlack, 100.0 * loose / expected.length);
            assertArrayEquals(f.flags("pgdl2.success"), r.success(), what + ": per-image success");
        }
    }
}
