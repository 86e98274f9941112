package dev.advinterp.experiments.data.scenes;

import java.util.Map;

/**
 * One generated image before it is written: its class and split, its pixels ({@code 0xRRGGBB},
 * {@code size×size} row-major), its whole-image scene label, and per masked category the labels at
 * half resolution ({@code size/2 × size/2}). A category with no labelled pixel has no entry, as
 * Broden leaves the column empty.
 */
record RenderedScene(int index, SceneClass sceneClass, boolean val, int size, int[] rgb, SceneConcept scene,
                     Map<String, int[]> masks) {
    RenderedScene {
        masks = Map.copyOf(masks);
    }
}
