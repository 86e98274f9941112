package dev.advinterp.experiments.metrics.dissection;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Each unit's top-activating images: the {@code k} images with the largest maximum of the unit's
 * map, kept in a small heap per unit as the images stream by (ties: the earlier image).
 */
public final class TopImages {
    /** An image and the unit's maximum on it. */
    public record Entry(int image, float value) {
    }

    private final int k;
    private final List<PriorityQueue<Entry>> heaps;

    public TopImages(int units, int k) {
        if (k <= 0) throw new IllegalArgumentException("--top must be positive, got " + k);
        this.k = k;
        this.heaps = new ArrayList<>(units);
        Comparator<Entry> weakestFirst = Comparator.comparingDouble(Entry::value).thenComparing(Entry::image, Comparator.reverseOrder());
        for (int u = 0; u < units; u++) heaps.add(new PriorityQueue<>(weakestFirst));
    }

    /** Offers the maps {@code [n, units, h, w]} of images {@code offset…offset+n}; {@code skip[i]} leaves image i out. */
    public void add(float[] maps, int offset, int n, int h, int w, boolean[] skip) {
        int units = heaps.size(), hw = h * w;
        java.util.stream.IntStream.range(0, units).parallel().forEach(u -> {
            PriorityQueue<Entry> heap = heaps.get(u);
            for (int i = 0; i < n; i++) {
                if (skip != null && skip[i]) continue;
                float m = Float.NEGATIVE_INFINITY;
                int off = (i * units + u) * hw;
                for (int p = 0; p < hw; p++) m = Math.max(m, maps[off + p]);
                if (heap.size() < k) {
                    heap.add(new Entry(offset + i, m));
                } else if (m > heap.peek().value()) {
                    heap.poll();
                    heap.add(new Entry(offset + i, m));
                }
            }
        });
    }

    /** Unit u's top images, strongest first. */
    public List<Entry> of(int u) {
        List<Entry> l = new ArrayList<>(heaps.get(u));
        l.sort(Comparator.comparingDouble(Entry::value).reversed().thenComparing(Entry::image));
        return l;
    }

    public int units() {
        return heaps.size();
    }

    /** Every unit's list, for a checkpoint: [unit][rank] = {image, float bits}. */
    public int[][][] state() {
        int[][][] s = new int[heaps.size()][][];
        for (int u = 0; u < s.length; u++) {
            List<Entry> l = of(u);
            s[u] = new int[l.size()][];
            for (int r = 0; r < l.size(); r++) s[u][r] = new int[]{l.get(r).image(), Float.floatToIntBits(l.get(r).value())};
        }
        return s;
    }

    public static TopImages restore(int[][][] s, int k) {
        TopImages t = new TopImages(s.length, k);
        for (int u = 0; u < s.length; u++) for (int[] e : s[u]) t.heaps.get(u).add(new Entry(e[0], Float.intBitsToFloat(e[1])));
        return t;
    }
}
