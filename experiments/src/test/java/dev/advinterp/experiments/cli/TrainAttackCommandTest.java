package dev.advinterp.experiments.cli;

import dev.advinterp.experiments.data.FashionMnist;
import dev.advinterp.experiments.run.AttackRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The train and attack commands end to end on a few Fashion-MNIST images. */
class TrainAttackCommandTest {

    private static int run(String... args) {
        return Main.commandLine().execute(args);
    }

    private static String[] train(Path out, int epochs, boolean resume) {
        List<String> a = new java.util.ArrayList<>(List.of("train", "--arch", "alexnet", "--data", "fashion-mnist", "--out", out.toString(),
                "--epochs", Integer.toString(epochs), "--batch", "8", "--limit", "16", "--lr", "0.01", "--adversarial", "--eps", "4"));
        if (resume) a.add("--resume");
        return a.toArray(String[]::new);
    }

    @Test
    void adversarialTrainingResumesToTheSameBitsAndTheModelCanBeAttacked(@TempDir Path dir) throws IOException {
        assumeTrue(Files.isDirectory(FashionMnist.DEFAULT_DIR), "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)");
        Path straight = dir.resolve("straight"), split = dir.resolve("split");
        assertEquals(0, run(train(straight, 2, false)));
        assertEquals(0, run(train(split, 1, false)));
        assertEquals(0, run(train(split, 2, true)));
        assertArrayEquals(Files.readAllBytes(straight.resolve("model.safetensors")), Files.readAllBytes(split.resolve("model.safetensors")),
                "a run resumed after epoch 1 must end with the same weights as an uninterrupted one");
        assertEquals(3, Files.readAllLines(split.resolve("metrics.csv")).size(), "header + 2 epochs");
        assertTrue(Files.readString(split.resolve("metrics.json")).contains("\"epoch\": 2"));

        Path att = dir.resolve("attack");
        assertEquals(0, run("attack", "--model", straight.resolve("model.safetensors").toString(), "--data", "fashion-mnist",
                "--out", att.toString(), "--attack", "fgsm", "--eps", "8", "--limit", "10", "--batch", "4"));
        List<String> rows = Files.readAllLines(att.resolve("results.csv"));
        assertEquals(String.join(",", AttackRun.HEADER), rows.getFirst());
        assertEquals(11, rows.size());
        for (String r : rows.subList(1, rows.size())) {
            String[] f = r.split(",");
            assertEquals(8f, Float.parseFloat(f[7]), 1e-3f, "L∞ of FGSM in pixel units: " + r);
        }
        assertTrue(Files.exists(att.resolve("adv_000009.png")));
        // resuming a finished attack adds nothing
        assertEquals(0, run("attack", "--model", straight.resolve("checkpoint.safetensors").toString(), "--data", "fashion-mnist",
                "--out", att.toString(), "--attack", "fgsm", "--eps", "8", "--limit", "10", "--batch", "4", "--resume"));
        assertEquals(rows, Files.readAllLines(att.resolve("results.csv")));
    }

    @Test
    void badArgumentsAreOneLineErrors(@TempDir Path dir) {
        assertEquals(2, run("train", "--arch", "lenet", "--data", "fashion-mnist", "--out", dir.toString()));
        assertEquals(2, run("train", "--data", "mnist", "--out", dir.toString()));
        assertEquals(1, run("attack", "--model", dir.resolve("none.safetensors").toString(), "--data", "fashion-mnist", "--out", dir.toString()),
                "a missing weight file is an I/O error");
    }
}
