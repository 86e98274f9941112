package dev.advinterp.experiments.testing;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Tensor;
import dev.advinterp.nn.Module;
import dev.advinterp.nn.io.HostTensor;
import dev.advinterp.nn.layers.Conv2d;
import dev.advinterp.nn.layers.Linear;
import dev.advinterp.nn.layers.ReLU;
import dev.advinterp.nn.models.Architecture;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.models.ModelConfig;

import java.util.LinkedHashMap;
import java.util.SplittableRandom;

/**
 * A network with hand-set filters whose layer "phi" has two planted units, for dissection tests on
 * the generated scenes:
 * <ul>
 *   <li>unit 0 fires on pure red: relu(r − g − b − 0.7) on the [0, 1] image (a 1×1 filter);</li>
 *   <li>unit 1 fires on stripes: the anisotropy of the local gradient energy,
 *       |E(0°) − E(90°)| + |E(45°) − E(135°)| with E the 5×5 mean of a direction's absolute
 *       derivative of the grey image, high where many parallel edges run one way (stripes), low on
 *       isotropic texture (dots, speckles, chequers).</li>
 * </ul>
 * φ is pooled 4×4, so its maps are a quarter of the image's side (upsampled to the masks at half).
 */
public final class PlantedNet extends ImageModel {
    private final Conv2d grad, energy, contrast, units;
    private final ReLU relu;
    private final Linear fc;
    private final Module phi;
    private int forwardsLeft = Integer.MAX_VALUE;

    public PlantedNet(int size) {
        super(ModelConfig.small(Architecture.ALEXNET, 3, size, 10, 1).withNormalization(new float[]{0, 0, 0}, new float[]{1, 1, 1}));
        SplittableRandom r = new SplittableRandom(1);
        grad = child("grad", new Conv2d(3, 9, 3, 1, 1, true, r));
        relu = child("relu", new ReLU());
        energy = child("energy", new Conv2d(9, 5, 1, 1, 0, true, r));
        contrast = child("contrast", new Conv2d(5, 5, 1, 1, 0, true, r));
        units = child("units", new Conv2d(5, 2, 1, 1, 0, true, r));
        phi = child("phi", new ReLU());
        fc = child("fc", new Linear(2, 10, r));
        set();
    }

    private void set() {
        float[] g = new float[9 * 3 * 9], gb = new float[9];
        // channel 0: red, the centre tap only
        tap(g, 0, 0, 1, 1, 1f);
        tap(g, 0, 1, 1, 1, -1f);
        tap(g, 0, 2, 1, 1, -1f);
        gb[0] = -0.7f;
        // channels 1-8: ± derivatives of the grey image (mean of the channels) in four directions
        int[][][] d = {{{1, 0}, {1, 2}}, {{0, 1}, {2, 1}}, {{0, 0}, {2, 2}}, {{0, 2}, {2, 0}}};
        for (int k = 0; k < 4; k++) {
            for (int c = 0; c < 3; c++) {
                for (int s = 0; s < 2; s++) {
                    float sign = s == 0 ? 1 : -1;
                    tap(g, 1 + 2 * k + s, c, d[k][1][0], d[k][1][1], sign / 3f);
                    tap(g, 1 + 2 * k + s, c, d[k][0][0], d[k][0][1], -sign / 3f);
                }
            }
        }
        float[] e = new float[5 * 9];
        e[0] = 1; // red passes through
        for (int k = 0; k < 4; k++) {
            e[(1 + k) * 9 + 1 + 2 * k] = 1;
            e[(1 + k) * 9 + 2 + 2 * k] = 1; // |derivative| = relu(x) + relu(-x)
        }
        float[] ct = new float[5 * 5];
        ct[0] = 1;
        ct[1 * 5 + 1] = 1;
        ct[1 * 5 + 2] = -1; // E0 - E90
        ct[2 * 5 + 2] = 1;
        ct[2 * 5 + 1] = -1; // E90 - E0
        ct[3 * 5 + 3] = 1;
        ct[3 * 5 + 4] = -1; // E45 - E135
        ct[4 * 5 + 4] = 1;
        ct[4 * 5 + 3] = -1;
        float[] u = {1, 0, 0, 0, 0, 0, 1, 1, 1, 1};
        LinkedHashMap<String, HostTensor> sd = stateDict();
        sd.put("grad.weight", HostTensor.ofFloats(g, 9, 3, 3, 3));
        sd.put("grad.bias", HostTensor.ofFloats(gb, 9));
        sd.put("energy.weight", HostTensor.ofFloats(e, 5, 9, 1, 1));
        sd.put("energy.bias", HostTensor.ofFloats(new float[5], 5));
        sd.put("contrast.weight", HostTensor.ofFloats(ct, 5, 5, 1, 1));
        sd.put("contrast.bias", HostTensor.ofFloats(new float[5], 5));
        sd.put("units.weight", HostTensor.ofFloats(u, 2, 5, 1, 1));
        sd.put("units.bias", HostTensor.ofFloats(new float[2], 2));
        loadStateDict(sd, true);
    }

    private static void tap(float[] w, int out, int in, int y, int x, float v) {
        w[((out * 3 + in) * 3 + y) * 3 + x] += v;
    }

    /** Makes the forward pass after the next {@code n} fail, as a crash in the middle of a run would. */
    public PlantedNet failAfter(int n) {
        forwardsLeft = n;
        return this;
    }

    @Override
    public String phiLayer() {
        return "phi";
    }

    @Override
    protected Tensor logits(Tensor x) {
        if (forwardsLeft-- <= 0) throw new IllegalStateException("planted failure");
        Tensor h = relu.call(grad.call(x));
        h = Ops.avgPool2d(energy.call(h), 5, 1, 2);
        h = relu.call(contrast.call(h));
        Tensor p = phi.call(Ops.avgPool2d(units.call(h), 4, 4, 0));
        return fc.call(Ops.flatten(Ops.adaptiveAvgPool2d(p, 1, 1)));
    }
}
