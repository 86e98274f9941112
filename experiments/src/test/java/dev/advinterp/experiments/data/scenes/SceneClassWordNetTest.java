package dev.advinterp.experiments.data.scenes;

import dev.advinterp.experiments.data.WordNetClass;
import dev.advinterp.experiments.data.broden.*;
import net.sf.extjwnl.data.POS;
import net.sf.extjwnl.data.Pointer;
import net.sf.extjwnl.data.PointerType;
import net.sf.extjwnl.data.Synset;
import net.sf.extjwnl.data.Word;
import net.sf.extjwnl.dictionary.Dictionary;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SceneClassWordNetTest {

    /** Each synset's ancestors (hypernyms and instance hypernyms) with their distance in edges. */
    private static Map<Long, Integer> ancestors(Synset s) throws Exception {
        Map<Long, Integer> d = new HashMap<>();
        ArrayDeque<Synset> queue = new ArrayDeque<>();
        d.put(s.getOffset(), 0);
        queue.add(s);
        while (!queue.isEmpty()) {
            Synset x = queue.poll();
            for (Pointer p : x.getPointers()) {
                if (p.getType() != PointerType.HYPERNYM && p.getType() != PointerType.INSTANCE_HYPERNYM) continue;
                Synset y = p.getTargetSynset();
                if (d.putIfAbsent(y.getOffset(), d.get(x.getOffset()) + 1) == null) queue.add(y);
            }
        }
        return d;
    }

    @Test
    void eachClassIsAWordNet30NounSynsetWithItsLemmaAndDistancesVary() throws Exception {
        Dictionary wn = Dictionary.getResourceInstance("/net/sf/extjwnl/data/wordnet/wn30/res_properties.xml");
        try {
            List<WordNetClass> classes = SceneClass.wordNetClasses();
            Synset[] synsets = new Synset[classes.size()];
            for (WordNetClass c : classes) {
                Synset s = wn.getSynsetAt(POS.NOUN, c.offset());
                assertNotNull(s, c.name() + ": " + c.wnid() + " is no noun synset of WordNet 3.0");
                List<String> lemmas = s.getWords().stream().map(Word::getLemma).toList();
                assertTrue(lemmas.contains(c.lemma()), c.name() + ": " + c.wnid() + " has lemmas " + lemmas);
                synsets[c.label()] = s;
            }
            int min = Integer.MAX_VALUE, max = 0;
            int[][] dist = new int[synsets.length][synsets.length];
            for (int i = 0; i < synsets.length; i++) {
                Map<Long, Integer> ai = ancestors(synsets[i]);
                for (int j = i + 1; j < synsets.length; j++) {
                    Map<Long, Integer> aj = ancestors(synsets[j]);
                    int best = Integer.MAX_VALUE;
                    for (var e : ai.entrySet()) if (aj.containsKey(e.getKey())) best = Math.min(best, e.getValue() + aj.get(e.getKey()));
                    dist[i][j] = best;
                    min = Math.min(min, best);
                    max = Math.max(max, best);
                }
            }
            assertTrue(min <= 3 && max >= 15, "hypernym distances from " + min + " to " + max);
            // Siblings are closer than the branches are to each other.
            int car = SceneClass.SPORTS_CAR.ordinal(), pickup = SceneClass.PICKUP.ordinal(), lab = SceneClass.LABRADOR.ordinal();
            assertTrue(dist[car][pickup] < dist[car][lab], "sports car–pickup " + dist[car][pickup] + ", sports car–Labrador " + dist[car][lab]);
        } finally {
            wn.close();
        }
    }

    /** Against the ImageNet-1k class list the project ships (a copy of shared/data/imagenet1k-classes.txt). */
    @Test
    void eachClassIsAnImageNet1kClass() {
        Set<String> wnids = Set.copyOf(dev.advinterp.experiments.data.ImageNetClasses.wnids());
        assertEquals(1000, wnids.size());
        for (SceneClass c : SceneClass.values()) assertTrue(wnids.contains(c.wnid()), c + " " + c.wnid());
    }
}
