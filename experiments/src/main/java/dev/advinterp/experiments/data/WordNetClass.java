package dev.advinterp.experiments.data;

/**
 * A dataset class and the WordNet 3.0 noun synset it stands for.
 *
 * @param label the class index in the dataset
 * @param name  the dataset's own name for the class ("T-shirt/top"; for ImageNet, the synset's lemmas)
 * @param wnid  the synset as 'n' and its 8-digit offset in WordNet 3.0's noun data ("n03595614")
 * @param lemma one lemma of that synset, which a check against WordNet can look up
 */
public record WordNetClass(int label, String name, String wnid, String lemma) {
    public WordNetClass {
        if (wnid == null || !wnid.matches("n\\d{8}")) {
            throw new IllegalArgumentException("class " + label + " (" + name + "): '" + wnid + "' is no WordNet noun id (n and 8 digits)");
        }
    }

    /** The synset's offset in WordNet 3.0's noun data file. */
    public long offset() {
        return Long.parseLong(wnid.substring(1));
    }
}
