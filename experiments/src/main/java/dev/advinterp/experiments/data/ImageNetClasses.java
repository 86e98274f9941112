package dev.advinterp.experiments.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The 1000 classes of ImageNet-1k (ILSVRC-2012) in torchvision's order, the sorted wnids, which
 * is the order of the outputs of torchvision's pretrained models. Read from the resource
 * {@code data/imagenet1k-classes.txt}: a line per class, the wnid, a space, then the synset's
 * WordNet 3.0 lemmas joined by ", ".
 */
public final class ImageNetClasses {
    private static final String RESOURCE = "data/imagenet1k-classes.txt";
    private static final List<WordNetClass> ALL;
    private static final List<String> WNIDS;
    private static final Map<String, Integer> INDEX = new HashMap<>();

    static {
        ALL = read();
        WNIDS = ALL.stream().map(WordNetClass::wnid).toList();
        for (WordNetClass c : ALL) INDEX.put(c.wnid(), c.label());
    }

    private ImageNetClasses() {
    }

    /** The 1000 classes in label order; a class's name is its lemmas, its lemma the first of them. */
    public static List<WordNetClass> all() {
        return ALL;
    }

    /** The 1000 wnids in label order. */
    public static List<String> wnids() {
        return WNIDS;
    }

    /**
     * A short readable name of a class for captions: the first lemma of an ImageNet-1k wnid
     * ("n02123045" → "tabby"); any other name as it is.
     */
    public static String shortName(String wnid) {
        int i = indexOf(wnid);
        return i < 0 ? wnid : ALL.get(i).lemma();
    }

    /** The label of {@code wnid}, or −1 if it is not one of the 1000 classes. */
    public static int indexOf(String wnid) {
        return INDEX.getOrDefault(wnid, -1);
    }

    private static List<WordNetClass> read() {
        InputStream in = ImageNetClasses.class.getClassLoader().getResourceAsStream(RESOURCE);
        if (in == null) throw new IllegalStateException("the resource " + RESOURCE + " is missing from the class path; rebuild the jar");
        List<WordNetClass> out = new ArrayList<>(1000);
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            int lineNo = 0;
            String previous = "";
            for (String line; (line = r.readLine()) != null; ) {
                lineNo++;
                if (line.isBlank()) continue;
                int space = line.indexOf(' ');
                String wnid = space < 0 ? line : line.substring(0, space), names = space < 0 ? "" : line.substring(space + 1).strip();
                if (!wnid.matches("n\\d{8}") || names.isEmpty() || wnid.compareTo(previous) <= 0) {
                    throw new IllegalStateException(RESOURCE + " line " + lineNo + ": expected a wnid greater than " + previous
                            + ", a space and its lemmas; got: " + line);
                }
                previous = wnid;
                int comma = names.indexOf(',');
                out.add(new WordNetClass(out.size(), names, wnid, comma < 0 ? names : names.substring(0, comma)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading the resource " + RESOURCE, e);
        }
        if (out.size() != 1000) throw new IllegalStateException(RESOURCE + " has " + out.size() + " classes, not 1000; rebuild the jar");
        return List.copyOf(out);
    }
}
