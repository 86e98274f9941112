package dev.advinterp.experiments.wordnet;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;

/**
 * Distances for a list of synset pairs: lines {@code wnid<TAB>wnid} in, lines
 * {@code wnid<TAB>wnid<TAB>distance} out, in the same order. Blank lines and lines starting with
 * {@code #} are skipped. A malformed line or an unknown wnid stops the run with an error naming the
 * line; nothing is ever printed for a pair that could not be measured.
 */
public final class WordNetPairs {
    private WordNetPairs() {
    }

    /** Reads pairs from {@code in} ({@code source} names it in errors) and prints each with its distance; returns the pair count. */
    public static int run(WordNetGraph graph, BufferedReader in, String source, PrintWriter out) throws IOException {
        int lineNo = 0, pairs = 0;
        for (String line; (line = in.readLine()) != null; ) {
            lineNo++;
            String s = line.strip();
            if (s.isEmpty() || s.startsWith("#")) continue;
            String[] f = s.split("\\t");
            if (f.length != 2) f = s.split("\\s+");
            if (f.length != 2) {
                throw new IllegalArgumentException(source + " line " + lineNo + ": expected two wnids separated by a tab, got '" + line + "'");
            }
            int d;
            try {
                d = graph.distance(f[0].strip(), f[1].strip());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(source + " line " + lineNo + ": " + e.getMessage(), e);
            }
            out.println(f[0].strip() + "\t" + f[1].strip() + "\t" + d);
            pairs++;
        }
        out.flush();
        return pairs;
    }
}
