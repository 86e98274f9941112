package dev.advinterp.experiments.demo;

import dev.advinterp.engine.Gradients;
import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tape;
import dev.advinterp.engine.Tensor;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The engine's end-to-end demo: {@link DemoNet} learns {@link OrientedBars} with SGD (momentum,
 * weight decay) from a seed. Everything random (data, initialisation, shuffling, dropout) follows
 * from the seed, and the CPU kernels are deterministic, so two runs with the same options give
 * the same bits.
 */
public final class Demo {

    /** Options; {@link #defaults()} is what {@code advinterp demo} runs. */
    public record Options(long seed, int trainImages, int testImages, int size, int batch, int epochs,
                          float lr, float momentum, float weightDecay, float dropout) {
        public static Options defaults() {
            return new Options(42, 2048, 512, 16, 32, 6, 0.05f, 0.9f, 5e-4f, 0.1f);
        }

        void validate() {
            if (trainImages < batch || batch <= 0 || epochs <= 0 || testImages <= 0) {
                throw new IllegalArgumentException("demo: need batch > 0, epochs > 0, test images > 0 and train images >= batch; got "
                        + this);
            }
            if (!(lr > 0)) throw new IllegalArgumentException("demo: learning rate must be positive, got " + lr);
        }
    }

    /** What a run achieved. */
    public record Result(float initialLoss, List<Float> epochLosses, float testAccuracy, long fingerprint, double seconds) {
        public float finalLoss() {
            return epochLosses.getLast();
        }

        /** Initial loss over the last epoch's mean loss. */
        public float lossFactor() {
            return initialLoss / finalLoss();
        }
    }

    private Demo() {
    }

    public static Result run(Options o, PrintStream out) {
        o.validate();
        long t0 = System.nanoTime();
        SplittableRandom seeds = new SplittableRandom(o.seed());
        OrientedBars.Batch train = OrientedBars.generate(o.trainImages(), o.size(), seeds.nextLong());
        OrientedBars.Batch test = OrientedBars.generate(o.testImages(), o.size(), seeds.nextLong());
        long shuffleSeed = seeds.nextLong(), dropoutSeed = seeds.nextLong();
        int pixels = o.size() * o.size();
        try (DemoNet net = new DemoNet(seeds.nextLong(), o.dropout());
             Scope optimizerScope = Scope.detached("demo-sgd")) {
            Map<Tensor, Tensor> momentum = new IdentityHashMap<>();
            for (Tensor p : net.parameters()) momentum.put(p, optimizerScope.adopt(Tensor.zeros(p.shape())));

            float initialLoss = Float.NaN;
            List<Float> epochLosses = new ArrayList<>();
            int stepsPerEpoch = o.trainImages() / o.batch();
            SplittableRandom shuffle = new SplittableRandom(shuffleSeed);
            int[] order = new int[o.trainImages()];
            for (int i = 0; i < order.length; i++) order[i] = i;
            long step = 0;
            for (int epoch = 0; epoch < o.epochs(); epoch++) {
                for (int i = order.length - 1; i > 0; i--) {
                    int j = shuffle.nextInt(i + 1), t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                }
                double lossSum = 0;
                int correct = 0;
                for (int s = 0; s < stepsPerEpoch; s++, step++) {
                    float[] x = new float[o.batch() * pixels];
                    int[] y = new int[o.batch()];
                    for (int b = 0; b < o.batch(); b++) {
                        int idx = order[s * o.batch() + b];
                        System.arraycopy(train.images(), idx * pixels, x, b * pixels, pixels);
                        y[b] = train.labels()[idx];
                    }
                    try (Scope sc = Scope.open(); Tape tape = Tape.start()) {
                        Tensor images = Tensor.of(x, o.batch(), 1, o.size(), o.size());
                        Tensor logits = net.forward(images, true, dropoutSeed + step);
                        Tensor loss = Ops.softmaxCrossEntropy(logits, y);
                        float l = loss.item();
                        if (Float.isNaN(initialLoss)) initialLoss = l;
                        lossSum += l;
                        int[] pred = Ops.argmax(logits);
                        for (int b = 0; b < y.length; b++) if (pred[b] == y[b]) correct++;
                        Gradients g = tape.backward(loss);
                        for (Tensor p : net.parameters()) {
                            Ops.sgdStep(p, g.of(p), momentum.get(p), o.lr(), o.momentum(), o.weightDecay(), false);
                        }
                    }
                }
                float epochLoss = (float) (lossSum / stepsPerEpoch);
                epochLosses.add(epochLoss);
                if (out != null) {
                    out.printf("epoch %d/%d  loss %.4f  train accuracy %5.1f%%%n", epoch + 1, o.epochs(), epochLoss,
                            100.0 * correct / (stepsPerEpoch * o.batch()));
                }
            }
            float accuracy = evaluate(net, test, o.batch());
            double seconds = (System.nanoTime() - t0) / 1e9;
            return new Result(initialLoss, List.copyOf(epochLosses), accuracy, net.fingerprint(), seconds);
        }
    }

    private static float evaluate(DemoNet net, OrientedBars.Batch test, int batch) {
        int pixels = test.size() * test.size();
        int correct = 0;
        for (int start = 0; start < test.n(); start += batch) {
            int n = Math.min(batch, test.n() - start);
            float[] x = new float[n * pixels];
            System.arraycopy(test.images(), start * pixels, x, 0, n * pixels);
            try (Scope sc = Scope.open()) {
                int[] pred = Ops.argmax(net.forward(Tensor.of(x, n, 1, test.size(), test.size()), false, 0));
                for (int b = 0; b < n; b++) if (pred[b] == test.labels()[start + b]) correct++;
            }
        }
        return (float) correct / test.n();
    }
}
