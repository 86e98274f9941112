package dev.advinterp.experiments.data;

import net.sf.extjwnl.data.POS;
import net.sf.extjwnl.data.Synset;
import net.sf.extjwnl.data.Word;
import net.sf.extjwnl.dictionary.Dictionary;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageNetClassesTest {

    @Test
    void thousandClassesInTorchvisionOrder() {
        List<WordNetClass> all = ImageNetClasses.all();
        assertEquals(1000, all.size());
        assertEquals(new WordNetClass(0, "tench, Tinca tinca", "n01440764", "tench"), all.getFirst());
        assertEquals("n15075141", all.getLast().wnid());
        assertEquals("toilet tissue", all.getLast().lemma());
        for (int i = 0; i < 1000; i++) {
            assertEquals(i, all.get(i).label());
            assertEquals(i, ImageNetClasses.indexOf(all.get(i).wnid()));
            if (i > 0) assertTrue(all.get(i - 1).wnid().compareTo(all.get(i).wnid()) < 0, "not sorted at " + i);
        }
        assertEquals(-1, ImageNetClasses.indexOf("n00000000"));
        // Two well-known torchvision indices.
        assertEquals(207, ImageNetClasses.indexOf("n02099601"));  // golden retriever
        assertEquals(281, ImageNetClasses.indexOf("n02123045"));  // tabby cat
    }

    @Test
    void everyWnidIsAWordNet30SynsetWithTheListedLemmas() throws Exception {
        Dictionary wn = Dictionary.getResourceInstance("/net/sf/extjwnl/data/wordnet/wn30/res_properties.xml");
        List<String> problems = new ArrayList<>();
        try {
            for (WordNetClass c : ImageNetClasses.all()) {
                Synset s = wn.getSynsetAt(POS.NOUN, c.offset());
                if (s == null) {
                    problems.add(c.wnid() + " is no noun synset");
                    continue;
                }
                List<String> lemmas = s.getWords().stream().map(Word::getLemma).toList();
                if (!lemmas.equals(List.of(c.name().split(", ")))) problems.add(c.wnid() + ": WordNet has " + lemmas + ", the list " + c.name());
            }
        } finally {
            wn.close();
        }
        assertEquals(List.of(), problems);
    }
}
