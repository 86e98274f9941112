package dev.advinterp.engine.backend.cpu;

import dev.advinterp.engine.EngineConfig;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.backend.ConvGeometry;
import dev.advinterp.engine.backend.ConvolutionKernels;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Each convolution pass by the faster of two implementations, timed per pass and geometry on this
 * machine: oneDNN ({@link DnnlConvolution}) and, where it qualifies, Winograd ({@link CpuWinograd},
 * reached through {@link CpuConv2d}). On only with {@code -Dadvinterp.conv.measure=true}; otherwise
 * (the default) every pass goes to oneDNN.
 *
 * <p>Why: which one is faster depends on the CPU. On an AVX-512 machine oneDNN was faster on every
 * pass; on an AVX2-only one, Winograd's backward-filter took 0.55–0.87 of oneDNN's time on the
 * 3×3 layers of ResNet-18 past the first stage, and its forward and backward-data 0.8–0.95 on
 * the 8×8 and 4×4 maps of the 32-px model, while oneDNN was 1.1–1.6× faster on the others
 * (bench/README.md). A fixed rule would be wrong on one of the two.
 *
 * <p>Policy: the first {@link #TRIAL_CALLS} calls of a (pass, geometry) that Winograd can take
 * alternate between the two, each call computing its own result, so the trial costs no extra work,
 * only some calls on the slower candidate. The first {@link #WARM_UP} calls of each are not timed
 * (plan creation, workspaces growing, and above all the JIT compiling Winograd's Java transforms,
 * which run several times slower on their first calls: timed on a first call, the choice was wrong
 * on most shapes); the fastest of the rest counts. Winograd is chosen when it took at most
 * {@link #MARGIN} of oneDNN's time, so that a tie, which the machine's noise could tip either way,
 * stays with oneDNN. Every later call of that pass and geometry runs the chosen one, for the life
 * of the process. Passes Winograd cannot take go straight to oneDNN.
 *
 * <p>Why it is not the default: the choice is a measurement, and during the trial the same pass
 * alternates between two implementations, so results differ in float32 rounding between the first
 * calls and the later ones, and between processes that chose differently (both implementations are
 * tested against the im2col reference and PyTorch). Off, a computation gives the same bits every time.
 */
final class ConvolutionChoice implements ConvolutionKernels {
    /** Winograd must take at most this fraction of oneDNN's time to be chosen. */
    static final double MARGIN = 0.95;
    /** Calls of each candidate that are not timed, then calls that are. */
    static final int WARM_UP = 3, TIMED = 3;
    /** Calls of a pass and geometry before the choice: both candidates, alternating. */
    static final int TRIAL_CALLS = 2 * (WARM_UP + TIMED);

    enum Pass { FORWARD, BACKWARD_DATA, BACKWARD_FILTER }

    /** Whether the second candidate can take a pass of a geometry. */
    interface Eligibility {
        boolean applies(Pass pass, ConvGeometry g);
    }

    /** What was measured for one pass and geometry: milliseconds of each, and the one chosen. */
    record Choice(Pass pass, ConvGeometry g, double firstMillis, double secondMillis, boolean second) {
        String describe(String firstName, String secondName) {
            return String.format(Locale.ROOT, "%s %d×%d×%d×%d→%d: %s (%s %.2f ms, %s %.2f ms)", pass.name().toLowerCase(Locale.ROOT).replace('_', '-'),
                    g.n(), g.cIn(), g.h(), g.w(), g.cOut(), second ? secondName : firstName, firstName, firstMillis, secondName, secondMillis);
        }
    }

    private record Key(Pass pass, ConvGeometry g, boolean bias) {
    }

    private final ConvolutionKernels first, second;
    private final Eligibility secondApplies;
    private final Map<Key, Choice> choices = new ConcurrentHashMap<>();
    private final Map<Key, Trial> trials = new HashMap<>();

    ConvolutionChoice(ConvolutionKernels first, ConvolutionKernels second, Eligibility secondApplies) {
        this.first = first;
        this.second = second;
        this.secondApplies = secondApplies;
    }

    /** oneDNN first, the im2col/Winograd path second where Winograd takes the pass. */
    static ConvolutionChoice oneDnnOrWinograd(DnnlConvolution oneDnn, CpuConv2d java) {
        return new ConvolutionChoice(oneDnn, java, (pass, g) -> switch (pass) {
            case FORWARD -> CpuWinograd.appliesForward(g);
            case BACKWARD_DATA -> CpuWinograd.appliesBackwardData(g);
            case BACKWARD_FILTER -> CpuWinograd.appliesBackwardFilter(g);
        });
    }

    @Override
    public void forward(Tensor x, Tensor w, Tensor bias, ConvGeometry g, Tensor y) {
        pick(new Key(Pass.FORWARD, g, bias != null), () -> first.forward(x, w, bias, g, y), () -> second.forward(x, w, bias, g, y));
    }

    @Override
    public void backwardData(Tensor dy, Tensor w, ConvGeometry g, Tensor dx) {
        pick(new Key(Pass.BACKWARD_DATA, g, false), () -> first.backwardData(dy, w, g, dx), () -> second.backwardData(dy, w, g, dx));
    }

    @Override
    public void backwardFilter(Tensor x, Tensor dy, ConvGeometry g, Tensor dw, Tensor dbias) {
        pick(new Key(Pass.BACKWARD_FILTER, g, dbias != null), () -> first.backwardFilter(x, dy, g, dw, dbias),
                () -> second.backwardFilter(x, dy, g, dw, dbias));
    }

    /** The choices made so far, in no particular order. */
    List<Choice> choices() {
        return new ArrayList<>(choices.values());
    }

    private void pick(Key key, Runnable a, Runnable b) {
        if (!EngineConfig.current().convMeasure() || !secondApplies.applies(key.pass(), key.g())) {
            a.run();
            return;
        }
        Choice c = choices.get(key);
        if (c != null) {
            (c.second() ? b : a).run();
            return;
        }
        synchronized (trials) {
            Trial t = trials.computeIfAbsent(key, k -> new Trial());
            boolean second = t.calls % 2 == 1;
            t.record(second, millis(second ? b : a));
            if (t.calls == TRIAL_CALLS) {
                choices.put(key, new Choice(key.pass(), key.g(), t.best[0], t.best[1], t.best[1] <= MARGIN * t.best[0]));
                trials.remove(key);
            }
        }
    }

    /** The calls so far of an undecided pass and geometry, and each candidate's fastest timed call. */
    private static final class Trial {
        int calls;
        final double[] best = {Double.MAX_VALUE, Double.MAX_VALUE};

        void record(boolean second, double millis) {
            if (calls / 2 >= WARM_UP) best[second ? 1 : 0] = Math.min(best[second ? 1 : 0], millis);
            calls++;
        }
    }

    private static double millis(Runnable r) {
        long t = System.nanoTime();
        r.run();
        return (System.nanoTime() - t) / 1e6;
    }
}
