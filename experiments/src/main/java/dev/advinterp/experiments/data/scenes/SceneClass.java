package dev.advinterp.experiments.data.scenes;

import dev.advinterp.experiments.data.WordNetClass;

import java.util.Arrays;
import java.util.List;

/**
 * The image classes of the generated scenes, each a WordNet 3.0 noun synset that is also an
 * ImageNet-1k class. Three branches far apart in WordNet (motor vehicles, carnivores, natural
 * elevations and edible fruit) with close siblings inside each, so hypernym-path distances between
 * classes range from 2 (volcano–alp) to 17 (Labrador–sports car) and the consistency metric has
 * both near and far pairs to tell apart. The drawing of each class echoes its neighbours: the
 * vehicles are boxes on wheels that differ by proportions and windows, the pets are heads told apart
 * by ear shape and size, the mountains by one or two capped peaks, the fruit by body shape.
 *
 * @see SceneComposer for how each is drawn
 */
public enum SceneClass {
    SPORTS_CAR("n04285008", "sports car", SceneConcept.STREET),
    SCHOOL_BUS("n04146614", "school bus", SceneConcept.STREET),
    PICKUP("n03930630", "pickup", SceneConcept.MEADOW),
    TABBY("n02123045", "tabby cat", SceneConcept.KITCHEN),
    CHIHUAHUA("n02085620", "Chihuahua", SceneConcept.KITCHEN),
    LABRADOR("n02099712", "Labrador retriever", SceneConcept.MEADOW),
    VOLCANO("n09472597", "volcano", SceneConcept.FOREST),
    ALP("n09193705", "alp", SceneConcept.SNOWFIELD),
    ORANGE("n07747607", "orange", SceneConcept.KITCHEN),
    BANANA("n07753592", "banana", SceneConcept.BEACH);

    private final String wnid, title;
    private final SceneConcept usualScene;

    SceneClass(String wnid, String title, SceneConcept usualScene) {
        this.wnid = wnid;
        this.title = title;
        this.usualScene = usualScene;
    }

    /** The WordNet 3.0 noun synset: "n" and the 8-digit offset. */
    public String wnid() {
        return wnid;
    }

    /** The class's name, a lemma of its synset. */
    public String title() {
        return title;
    }

    /** Every class as its label, name, synset and lemma (the name is a lemma of the synset). */
    public static List<WordNetClass> wordNetClasses() {
        return Arrays.stream(values()).map(c -> new WordNetClass(c.ordinal(), c.title, c.wnid, c.title)).toList();
    }

    /** The scene drawn more often than the others behind this class (a weak prior, not a rule). */
    public SceneConcept usualScene() {
        return usualScene;
    }
}
