package dev.advinterp.experiments.wordnet;

import net.sf.extjwnl.JWNLException;
import net.sf.extjwnl.data.POS;
import net.sf.extjwnl.data.Pointer;
import net.sf.extjwnl.data.PointerType;
import net.sf.extjwnl.data.Synset;
import net.sf.extjwnl.data.Word;
import net.sf.extjwnl.dictionary.Dictionary;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * WordNet 3.0's noun hierarchy (extJWNL with its bundled WordNet 3.0 data: nothing to install),
 * with synsets named as ImageNet names its classes: {@code n} and the 8-digit offset in WordNet
 * 3.0's noun data ("n02123045" is tabby, tabby cat).
 *
 * <p>The distance of the consistency metric (the paper's d(w_i, w_j)) is the shortest path between
 * two synsets through hypernym and instance-hypernym edges: the minimum, over every common
 * ancestor h, of the up-steps from a to h plus those from b to h. Each synset's ancestors are found
 * by a breadth-first search upwards, which takes the shortest of several routes where a synset has
 * more than one hypernym (depth arithmetic would be wrong there). Known WordNet 3.0 values, tested:
 * tabby–tiger cat 2, tabby–Irish wolfhound 7, tabby–tench 13, tench–warplane 19.
 */
public final class WordNetGraph implements AutoCloseable {
    private static final Pattern WNID = Pattern.compile("n\\d{8}");
    private static final String WN30 = "/net/sf/extjwnl/data/wordnet/wn30/res_properties.xml";

    private final Dictionary dictionary;
    private final Map<String, Map<Long, Integer>> ancestors = new HashMap<>();

    private WordNetGraph(Dictionary dictionary) {
        this.dictionary = dictionary;
    }

    /** Loads WordNet 3.0 from the extjwnl-data-wn30 resources (a few seconds). */
    public static WordNetGraph open() {
        try {
            return new WordNetGraph(Dictionary.getResourceInstance(WN30));
        } catch (JWNLException e) {
            throw new IllegalStateException("WordNet 3.0 could not be loaded from the extjwnl-data-wn30 resources: " + e.getMessage(), e);
        }
    }

    /** Whether {@code wnid} is written as a WordNet noun id ('n' and 8 digits); says nothing of whether it exists. */
    public static boolean isWellFormed(String wnid) {
        return wnid != null && WNID.matcher(wnid).matches();
    }

    /** The noun synset {@code wnid}; a malformed or unknown id is an error naming it. */
    public Synset synset(String wnid) {
        if (!isWellFormed(wnid)) {
            throw new IllegalArgumentException("'" + wnid + "' is not a WordNet noun id (n and 8 digits, e.g. n02123045)");
        }
        Synset s;
        try {
            s = dictionary.getSynsetAt(POS.NOUN, Long.parseLong(wnid.substring(1)));
        } catch (JWNLException | RuntimeException e) {
            s = null;
        }
        if (s == null) throw new IllegalArgumentException(wnid + " is not a noun synset of WordNet 3.0");
        return s;
    }

    /** The lemmas of synset {@code wnid}, e.g. [tabby, tabby cat]. */
    public List<String> lemmas(String wnid) {
        return synset(wnid).getWords().stream().map(Word::getLemma).toList();
    }

    /** The shortest hypernym-path distance between two noun synsets. */
    public int distance(String a, String b) {
        return distance(ancestorsOf(a), ancestorsOf(b));
    }

    /** The distance between two synsets given their ancestor maps (synset offset → up-steps). */
    static int distance(Map<Long, Integer> a, Map<Long, Integer> b) {
        Map<Long, Integer> small = a.size() <= b.size() ? a : b, large = small == a ? b : a;
        int best = Integer.MAX_VALUE;
        for (Map.Entry<Long, Integer> e : small.entrySet()) {
            Integer other = large.get(e.getKey());
            if (other != null) best = Math.min(best, e.getValue() + other);
        }
        if (best == Integer.MAX_VALUE) throw new IllegalStateException("two WordNet noun synsets without a common ancestor");
        return best;
    }

    /** Every ancestor of {@code wnid} (itself included, at 0) with its fewest up-steps. */
    public synchronized Map<Long, Integer> ancestorsOf(String wnid) {
        Map<Long, Integer> known = ancestors.get(wnid);
        if (known != null) return known;
        Synset start = synset(wnid);
        Map<Long, Integer> depth = new HashMap<>();
        ArrayDeque<Synset> queue = new ArrayDeque<>();
        depth.put(start.getOffset(), 0);
        queue.add(start);
        while (!queue.isEmpty()) {
            Synset x = queue.poll();
            int next = depth.get(x.getOffset()) + 1;
            for (Pointer p : x.getPointers()) {
                if (p.getType() != PointerType.HYPERNYM && p.getType() != PointerType.INSTANCE_HYPERNYM) continue;
                Synset y;
                try {
                    y = p.getTargetSynset();
                } catch (JWNLException e) {
                    throw new IllegalStateException("WordNet 3.0: the hypernym of " + wnid + " cannot be read: " + e.getMessage(), e);
                }
                if (depth.putIfAbsent(y.getOffset(), next) == null) queue.add(y);
            }
        }
        Map<Long, Integer> frozen = Map.copyOf(depth);
        ancestors.put(wnid, frozen);
        return frozen;
    }

    @Override
    public void close() {
        try {
            dictionary.close();
        } catch (JWNLException | RuntimeException e) {
            // closing a resource dictionary only drops its caches: nothing to report
        }
    }
}
