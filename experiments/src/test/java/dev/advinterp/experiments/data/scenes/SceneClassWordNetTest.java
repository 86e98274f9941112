package dev.advinterp.experiments.data.scenes;

import dev.advinterp.experiments.data.WordNetClass;
import dev.advinterp.experiments.wordnet.ClassDistances;
import dev.advinterp.experiments.wordnet.WordNetGraph;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SceneClassWordNetTest {

    @Test
    void eachClassIsAWordNet30NounSynsetWithItsLemmaAndDistancesVary() {
        try (WordNetGraph wn = WordNetGraph.open()) {
            List<WordNetClass> classes = SceneClass.wordNetClasses();
            for (WordNetClass c : classes) {
                List<String> lemmas = wn.lemmas(c.wnid());
                assertTrue(lemmas.contains(c.lemma()), c.name() + ": " + c.wnid() + " has lemmas " + lemmas);
            }
            ClassDistances d = ClassDistances.compute(wn, classes.stream().map(WordNetClass::wnid).toList());
            int min = Integer.MAX_VALUE, max = 0;
            for (int i = 0; i < d.size(); i++) {
                for (int j = i + 1; j < d.size(); j++) {
                    min = Math.min(min, d.get(i, j));
                    max = Math.max(max, d.get(i, j));
                }
            }
            assertTrue(min <= 3 && max >= 15, "hypernym distances from " + min + " to " + max);
            // Siblings are closer than the branches are to each other.
            int car = SceneClass.SPORTS_CAR.ordinal(), pickup = SceneClass.PICKUP.ordinal(), lab = SceneClass.LABRADOR.ordinal();
            assertTrue(d.get(car, pickup) < d.get(car, lab), "sports car–pickup " + d.get(car, pickup) + ", sports car–Labrador " + d.get(car, lab));
        }
    }

    @Test
    void eachClassIsAnImageNet1kClass() {
        Set<String> wnids = Set.copyOf(dev.advinterp.experiments.data.ImageNetClasses.wnids());
        assertEquals(1000, wnids.size());
        for (SceneClass c : SceneClass.values()) assertTrue(wnids.contains(c.wnid()), c + " " + c.wnid());
    }
}
