package dev.advinterp.experiments.cli;

import dev.advinterp.experiments.demo.Demo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code advinterp demo}: the engine's end-to-end check, a small CNN learning oriented bars. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Trains a small CNN on synthetic oriented bars (4 classes, 16×16 grey) on the chosen --device",
                "and reports the loss per epoch and the test accuracy. Seeded: the same options give the same bits."})
final class DemoCommand implements Callable<Integer> {
    private static final Demo.Options D = Demo.Options.defaults();

    @Option(names = "--seed", description = "Seed of everything random (default: ${DEFAULT-VALUE}).")
    long seed = D.seed();

    @Option(names = "--epochs", description = "Training epochs (default: ${DEFAULT-VALUE}).")
    int epochs = D.epochs();

    @Option(names = "--train-images", description = "Training images (default: ${DEFAULT-VALUE}).")
    int trainImages = D.trainImages();

    @Option(names = "--batch", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch = D.batch();

    @Option(names = "--lr", description = "Learning rate (default: ${DEFAULT-VALUE}).")
    float lr = D.lr();

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() {
        device.apply();
        var o = new Demo.Options(seed, trainImages, D.testImages(), D.size(), batch, epochs, lr, D.momentum(), D.weightDecay(), D.dropout());
        System.out.printf("demo: %d training images of %d×%d, batch %d, %d epochs, seed %d%n",
                o.trainImages(), o.size(), o.size(), o.batch(), o.epochs(), o.seed());
        Demo.Result r = Demo.run(o, System.out);
        System.out.printf("initial loss %.4f, final epoch loss %.4f (%.1f× lower), test accuracy %.1f%%, %.1f s%n",
                r.initialLoss(), r.finalLoss(), r.lossFactor(), 100 * r.testAccuracy(), r.seconds());
        System.out.printf("fingerprint of the trained parameters: %016x (the same seed gives the same value)%n", r.fingerprint());
        return 0;
    }
}
