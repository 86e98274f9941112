package dev.advinterp.experiments.data.scenes;

import java.nio.file.Path;

/** What a run of the scenes generator wrote, and how fast. */
public record ScenesSummary(Path directory, int images, int train, int val, int classes, int labels, double seconds) {

    public double imagesPerSecond() {
        return images / Math.max(seconds, 1e-9);
    }
}
