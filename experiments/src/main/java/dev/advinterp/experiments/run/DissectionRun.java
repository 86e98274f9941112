package dev.advinterp.experiments.run;

import dev.advinterp.engine.io.AtomicFile;
import dev.advinterp.experiments.activations.MapPass;
import dev.advinterp.experiments.attacks.AttackSpec;
import dev.advinterp.experiments.data.DataSources;
import dev.advinterp.experiments.data.broden.BrodenDataset;
import dev.advinterp.experiments.data.broden.BrodenImages;
import dev.advinterp.experiments.figures.MaskOverlay;
import dev.advinterp.experiments.io.Csv;
import dev.advinterp.experiments.io.Html;
import dev.advinterp.experiments.io.ImageCodec;
import dev.advinterp.experiments.metrics.dissection.BitMask;
import dev.advinterp.experiments.metrics.dissection.Concepts;
import dev.advinterp.experiments.metrics.dissection.DissectionTally;
import dev.advinterp.experiments.metrics.dissection.ImageConcepts;
import dev.advinterp.experiments.metrics.dissection.Table2Row;
import dev.advinterp.experiments.metrics.dissection.TopImages;
import dev.advinterp.experiments.metrics.dissection.UnitDissection;
import dev.advinterp.experiments.metrics.dissection.UnitQuantiles;
import dev.advinterp.experiments.metrics.dissection.Upsampler;
import dev.advinterp.nn.io.Json;
import dev.advinterp.nn.models.ImageModel;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.IntStream;

/**
 * Network dissection (Bau et al. 2017, as NetDissect does it) of a layer, on the images of a
 * Broden folder and on their adversarial versions (the iterative least-likely class attack), with
 * the clean images' masks for both. Three passes over the images, never all activations in memory:
 * <ol>
 *   <li>each unit's threshold at the top quantile of its activations over every position of every
 *       image ({@link UnitQuantiles}: exact when they fit the budget, a streaming sketch otherwise),
 *       and each unit's top images; per set (real, adversarial), each with its own thresholds;</li>
 *   <li>the IoU counts ({@link DissectionTally}): maps upsampled to the mask size and thresholded,
 *       against every label of the image, restricted per category to the images carrying it;</li>
 *   <li>the top images again, to draw each unit's thresholded mask over them for the HTML page.</li>
 * </ol>
 * Outputs: {@code tally_real.csv} and {@code tally_adversarial.csv} in NetDissect's tally layout,
 * {@code table2.csv} and {@code dissection.json} (Table 2's rows), {@code dissection.html} with
 * {@code html/} strips. Resumable: pass 1's thresholds are kept once done, pass 2 is checkpointed
 * about once a minute; an interrupted pass 1 starts again.
 */
public final class DissectionRun {
    public static final String PASS1 = "thresholds.json", STATE = "pass2.state", TALLY_REAL = "tally_real.csv",
            TALLY_ADVERSARIAL = "tally_adversarial.csv", TABLE = "table2.csv", JSON = "dissection.json", HTML = "dissection.html", STRIPS = "html";
    public static final List<String> OUTPUTS = List.of(PASS1, STATE, TALLY_REAL, TALLY_ADVERSARIAL, TABLE, JSON, HTML, STRIPS);
    /** How often pass 2 is checkpointed (tests lower it). */
    static long checkpointNanos = 60_000_000_000L;

    /**
     * @param layer        the layer (null: the model's φ)
     * @param adversarial  "illc" (the paper's) or "none" (real images only)
     * @param eps          ε of the attack, pixel units
     * @param iou          the IoU at which a unit is aligned with its best label (NetDissect: 0.04)
     * @param quantile     the fraction of each unit's activations above its threshold (NetDissect: 0.005)
     * @param top          top images per unit on the HTML page
     * @param budgetValues the most activation values kept for exact thresholds, over all units
     */
    public record Settings(String layer, String adversarial, float eps, double iou, double quantile, int batch, int top, long budgetValues) {
        public Settings {
            if (!adversarial.equals("illc") && !adversarial.equals("none")) {
                throw new IllegalArgumentException("--adversarial must be illc or none, got '" + adversarial + "'");
            }
            if (!(eps > 0) || !Float.isFinite(eps)) throw new IllegalArgumentException("--eps must be a finite number > 0, got " + eps);
            if (!(iou > 0 && iou <= 1)) throw new IllegalArgumentException("--iou must be in (0, 1], got " + iou);
            if (!(quantile > 0 && quantile < 1)) throw new IllegalArgumentException("--quantile must be in (0, 1), got " + quantile);
            if (batch <= 0 || top <= 0) throw new IllegalArgumentException("--batch and --top must be positive");
        }

        /** NetDissect's levels, the paper's attack at ε = 8, 5 top images, exact thresholds up to 64 M values (256 MB). */
        public static Settings defaults() {
            return new Settings(null, "illc", 8f, 0.04, 0.005, 32, 5, 64L << 20);
        }

        public String layerOf(ImageModel model) {
            return layer == null ? model.phiLayer() : layer;
        }

        public Map<String, Object> json(ImageModel model) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("layer", layerOf(model));
            m.put("adversarial", adversarial);
            if (!adversarial.equals("none")) m.put("eps", eps);
            m.put("iou", iou);
            m.put("quantile", quantile);
            return m;
        }
    }

    /** What one image set gave. */
    public record SetResult(String set, float[] thresholds, boolean exact, List<UnitDissection> units, Table2Row table, TopImages top) {
    }

    public record Result(Concepts concepts, String layer, SetResult real, SetResult adversarial, long images, long unreadable) {
    }

    private DissectionRun() {
    }

    public static Result run(ImageModel model, BrodenImages images, Settings s, RunFolder folder, String modelName, PrintStream out)
            throws IOException {
        String layer = s.layerOf(model);
        if (model.config().inputSize() != images.height() || model.config().inChannels() != images.channels()) {
            throw new IllegalArgumentException(modelName + " takes " + model.config().inChannels() + "×" + model.config().inputSize() + " images but "
                    + images.name() + " has " + images.channels() + "×" + images.height());
        }
        BrodenDataset broden = images.broden();
        Concepts concepts = Concepts.of(broden);
        AttackSpec attack = s.adversarial().equals("none") ? null : AttackSpec.illc(s.eps());
        boolean adversarial = attack != null;

        Pass1 p1 = Files.exists(folder.file(PASS1)) ? Pass1.read(folder.file(PASS1), s.top()) : pass1(model, images, attack, layer, s, out);
        if (!Files.exists(folder.file(PASS1))) p1.write(folder.file(PASS1), s);

        int sh = broden.entry(images.entry(0)).sh(), sw = broden.entry(images.entry(0)).sw();
        DissectionTally real = new DissectionTally(concepts, p1.units), adv = adversarial ? new DissectionTally(concepts, p1.units) : null;
        long[] progress = {0, 0}; // images done, unreadable
        if (Files.exists(folder.file(STATE))) {
            progress = readState(folder.file(STATE), real, adv);
            if (out != null && progress[0] < images.size()) out.printf("dissection: continuing pass 2 after %d images%n", progress[0]);
        }
        if (progress[0] < images.size()) progress = pass2(model, images, attack, layer, s, p1, concepts, sh, sw, real, adv, progress, folder, out);

        SetResult r = result("real", p1.realThresholds, p1.exact, real, concepts, s, p1.realTop);
        SetResult a = adversarial ? result("adversarial", p1.advThresholds, p1.exact, adv, concepts, s, p1.advTop) : null;
        writeTally(folder.file(TALLY_REAL), concepts, r);
        if (a != null) writeTally(folder.file(TALLY_ADVERSARIAL), concepts, a);
        List<List<?>> rows = new ArrayList<>();
        rows.add(r.table().csv());
        if (a != null) rows.add(a.table().csv());
        Csv.write(folder.file(TABLE), r.table().csvHeader(), rows);
        Result result = new Result(concepts, layer, r, a, progress[0] - progress[1], progress[1]);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("model", modelName);
        json.put("data", images.name());
        json.put("images", result.images());
        json.put("unreadable", result.unreadable());
        json.put("settings", s.json(model));
        json.put("thresholds", p1.exact ? "exact" : "REQ sketch (k " + UnitQuantiles.SKETCH_K + ", high-rank accuracy)");
        json.put("real", r.table().json());
        if (a != null) json.put("adversarial", a.table().json());
        AtomicFile.writeString(folder.file(JSON), Json.pretty(json));
        new DissectionPage(folder, modelName, images, result, s).write(model, attack, sh, sw, out);
        return result;
    }

    /** Pass 1's results: per set the thresholds and the top images. */
    private record Pass1(int units, boolean exact, float[] realThresholds, float[] advThresholds, TopImages realTop, TopImages advTop) {

        void write(Path file, Settings s) throws IOException {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("units", units);
            m.put("exact", exact);
            m.put("quantile", s.quantile());
            m.put("real", floats(realThresholds));
            if (advThresholds != null) m.put("adversarial", floats(advThresholds));
            m.put("real_top", top(realTop));
            if (advTop != null) m.put("adversarial_top", top(advTop));
            AtomicFile.writeString(file, Json.pretty(m));
        }

        static List<Object> floats(float[] v) {
            List<Object> l = new ArrayList<>(v.length);
            for (float x : v) l.add((double) x);
            return l;
        }

        static List<Object> top(TopImages t) {
            List<Object> units = new ArrayList<>();
            for (int[][] u : t.state()) {
                List<Object> e = new ArrayList<>();
                for (int[] x : u) e.add(List.of((long) x[0], (double) Float.intBitsToFloat(x[1])));
                units.add(e);
            }
            return units;
        }

        static Pass1 read(Path file, int k) throws IOException {
            Map<String, Object> m = Json.readObject(file);
            try {
                int units = ((Number) m.get("units")).intValue();
                boolean exact = Boolean.TRUE.equals(m.get("exact"));
                float[] r = toFloats(m.get("real"), units), a = m.containsKey("adversarial") ? toFloats(m.get("adversarial"), units) : null;
                return new Pass1(units, exact, r, a, toTop(m.get("real_top"), k), m.containsKey("adversarial_top") ? toTop(m.get("adversarial_top"), k) : null);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(file + ": not the thresholds of a dissection (" + e.getMessage() + "); --force starts over", e);
            }
        }

        static float[] toFloats(Object o, int n) {
            List<?> l = (List<?>) o;
            if (l.size() != n) throw new IllegalArgumentException(l.size() + " thresholds for " + n + " units");
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = ((Number) l.get(i)).floatValue();
            return v;
        }

        static TopImages toTop(Object o, int k) {
            List<?> units = (List<?>) o;
            int[][][] s = new int[units.size()][][];
            for (int u = 0; u < s.length; u++) {
                List<?> e = (List<?>) units.get(u);
                s[u] = new int[e.size()][];
                for (int r = 0; r < e.size(); r++) {
                    List<?> x = (List<?>) e.get(r);
                    s[u][r] = new int[]{((Number) x.get(0)).intValue(), Float.floatToIntBits(((Number) x.get(1)).floatValue())};
                }
            }
            return TopImages.restore(s, k);
        }
    }

    private static Pass1 pass1(ImageModel model, BrodenImages images, AttackSpec attack, String layer, Settings s, PrintStream out) throws IOException {
        UnitQuantiles[] q = new UnitQuantiles[2];
        TopImages[] top = new TopImages[2];
        int[] units = {0};
        MapPass.run(model, images, attack, layer, s.batch(), 0, false, "dissection pass 1/3 (thresholds)", out, m -> {
            if (units[0] == 0) {
                units[0] = m.units();
                long per = (long) images.size() * m.h() * m.w();
                q[0] = UnitQuantiles.create(m.units(), per, s.quantile(), attack == null ? s.budgetValues() : s.budgetValues() / 2);
                top[0] = new TopImages(m.units(), s.top());
                if (attack != null) {
                    q[1] = UnitQuantiles.create(m.units(), per, s.quantile(), s.budgetValues() / 2);
                    top[1] = new TopImages(m.units(), s.top());
                }
            }
            boolean[] skip = skips(m);
            q[0].add(m.real(), m.batch().n(), m.h(), m.w(), skip);
            top[0].add(m.real(), m.offset(), m.batch().n(), m.h(), m.w(), skip);
            if (attack != null) {
                q[1].add(m.adversarial(), m.batch().n(), m.h(), m.w(), skip);
                top[1].add(m.adversarial(), m.offset(), m.batch().n(), m.h(), m.w(), skip);
            }
        });
        return new Pass1(units[0], q[0].exact(), q[0].thresholds(), attack == null ? null : q[1].thresholds(), top[0], top[1]);
    }

    private static boolean[] skips(MapPass.Maps m) {
        boolean[] skip = new boolean[m.batch().n()];
        for (int i = 0; i < skip.length; i++) skip[i] = !m.batch().readable(i);
        return skip;
    }

    private static long[] pass2(ImageModel model, BrodenImages images, AttackSpec attack, String layer, Settings s, Pass1 p1, Concepts concepts,
                                int sh, int sw, DissectionTally real, DissectionTally adv, long[] done, RunFolder folder, PrintStream out)
            throws IOException {
        int[] byNumber = concepts.indexByNumber();
        BrodenDataset broden = images.broden();
        long[] progress = done.clone();
        long[] lastCheckpoint = {System.nanoTime()};
        int start = (int) progress[0];
        MapPass.run(model, images, attack, layer, s.batch(), start, false, "dissection pass 2/3 (IoU)", out, m -> {
            int n = m.batch().n();
            // The masks of the batch, decoded on all cores.
            List<ImageConcepts> labels = IntStream.range(0, n).parallel().mapToObj(i -> {
                if (m.offset() + i < start || !m.batch().readable(i)) return null;
                return ImageConcepts.of(broden.concepts(images.entry(m.offset() + i)), sh, sw, concepts, byNumber);
            }).toList();
            List<ImageConcepts> counted = new ArrayList<>(labels);
            int first = Math.max(0, start - m.offset());
            for (int i = 0; i < first; i++) counted.set(i, null);
            real.add(m.real(), n, m.h(), m.w(), counted, sh, sw, p1.realThresholds);
            if (adv != null) adv.add(m.adversarial(), n, m.h(), m.w(), counted, sh, sw, p1.advThresholds);
            for (int i = first; i < n; i++) {
                progress[0]++;
                if (!m.batch().readable(i)) progress[1]++;
            }
            if (System.nanoTime() - lastCheckpoint[0] >= checkpointNanos) {
                writeState(folder.file(STATE), progress, real, adv);
                lastCheckpoint[0] = System.nanoTime();
            }
        });
        writeState(folder.file(STATE), progress, real, adv);
        return progress;
    }

    private static final int STATE_MAGIC = 0x41445332; // "ADS2"

    private static void writeState(Path file, long[] progress, DissectionTally real, DissectionTally adv) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream o = new DataOutputStream(bytes)) {
            o.writeInt(STATE_MAGIC);
            o.writeLong(progress[0]);
            o.writeLong(progress[1]);
            for (DissectionTally t : adv == null ? List.of(real) : List.of(real, adv)) {
                for (long[] a : t.state()) {
                    o.writeInt(a.length);
                    for (long v : a) o.writeLong(v);
                }
            }
        }
        AtomicFile.writeBytes(file, bytes.toByteArray());
    }

    private static long[] readState(Path file, DissectionTally real, DissectionTally adv) throws IOException {
        try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file)))) {
            if (in.readInt() != STATE_MAGIC) throw new IOException("not a dissection checkpoint");
            long[] progress = {in.readLong(), in.readLong()};
            for (DissectionTally t : adv == null ? List.of(real) : List.of(real, adv)) {
                long[][] s = new long[4][];
                for (int k = 0; k < 4; k++) {
                    int len = in.readInt();
                    if (len < 0 || len > 100_000_000) throw new IOException("array length " + len);
                    s[k] = new long[len];
                    for (int i = 0; i < len; i++) s[k][i] = in.readLong();
                }
                t.restore(s);
            }
            return progress;
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(file + ": a damaged dissection checkpoint (" + e.getMessage() + "); --force starts over", e);
        }
    }

    private static SetResult result(String set, float[] thresholds, boolean exact, DissectionTally tally, Concepts concepts, Settings s, TopImages top) {
        List<UnitDissection> units = tally.results();
        return new SetResult(set, thresholds, exact, units, Table2Row.of(set, concepts, units, s.iou()), top);
    }

    /**
     * NetDissect's tally layout: a row per unit, best first (unit numbers 1-based, as NetDissect
     * writes them): the best label's category, name and IoU, then per category its best label, the
     * label's pixels (truth), the unit's pixels on images of the category (activation), their
     * overlap (intersect) and the IoU.
     */
    private static void writeTally(Path file, Concepts concepts, SetResult r) throws IOException {
        List<String> header = new ArrayList<>(List.of("unit", "category", "label", "score"));
        for (String c : concepts.categories()) header.addAll(List.of(c + "-label", c + "-truth", c + "-activation", c + "-intersect", c + "-iou"));
        List<UnitDissection> order = new ArrayList<>(r.units());
        order.sort((x, y) -> Double.compare(y.iou(), x.iou()));
        List<List<?>> rows = new ArrayList<>();
        for (UnitDissection u : order) {
            List<Object> row = new ArrayList<>();
            row.add(u.unit() + 1);
            row.add(u.label() < 0 ? "" : concepts.categories().get(concepts.primary()[u.label()]));
            row.add(u.label() < 0 ? "" : concepts.names().get(u.label()));
            row.add(String.format(Locale.ROOT, "%.6f", u.iou()));
            for (int c = 0; c < concepts.categories().size(); c++) {
                int l = u.bestInCategory()[c];
                row.add(l < 0 ? "" : concepts.names().get(l));
                row.add(u.truth()[c]);
                row.add(u.activation()[c]);
                row.add(u.intersection()[c]);
                row.add(String.format(Locale.ROOT, "%.6f", u.categoryIou()[c]));
            }
            rows.add(row);
        }
        Csv.write(file, header, rows);
    }

    /** Pass 3 and the page: each unit's top images with its mask, then dissection.html. */
    private record DissectionPage(RunFolder folder, String modelName, BrodenImages images, Result result, Settings s) {

        void write(ImageModel model, AttackSpec attack, int sh, int sw, PrintStream out) throws IOException {
            Path strips = folder.file(STRIPS);
            Files.createDirectories(strips);
            List<SetResult> sets = result.adversarial() == null ? List.of(result.real()) : List.of(result.real(), result.adversarial());
            TreeSet<Integer> wanted = new TreeSet<>();
            for (SetResult r : sets) for (int u = 0; u < r.top().units(); u++) for (TopImages.Entry e : r.top().of(u)) wanted.add(e.image());
            int[] idx = wanted.stream().mapToInt(Integer::intValue).toArray();
            Map<Integer, Integer> position = new LinkedHashMap<>();
            for (int i = 0; i < idx.length; i++) position.put(idx[i], i);
            int ih = images.height(), iw = images.width(), c = images.channels();
            // tiles[set][unit][rank], scaled to the strip's side and kept as PNG bytes (a 224-px Broden gives thousands)
            int side = Math.min(ih, 112);
            byte[][][][] tiles = new byte[sets.size()][result.real().top().units()][s.top()][];
            if (idx.length > 0) {
                MapPass.run(model, DataSources.subset(images, idx, images.name() + " (top images)"), attack, result.layer(), s.batch(), 0, true,
                        "dissection pass 3/3 (top images)", out, m -> {
                            int n = m.batch().n(), units = m.units();
                            Upsampler up = new Upsampler(m.h(), m.w(), ih, iw);
                            BitMask mask = new BitMask(ih * iw);
                            for (int si = 0; si < sets.size(); si++) {
                                SetResult r = sets.get(si);
                                float[] maps = si == 0 ? m.real() : m.adversarial();
                                float[] pixels = si == 0 ? m.batch().images() : m.adversarialImages();
                                for (int u = 0; u < units; u++) {
                                    List<TopImages.Entry> top = r.top().of(u);
                                    for (int rank = 0; rank < top.size(); rank++) {
                                        int p = position.get(top.get(rank).image()) - m.offset();
                                        if (p < 0 || p >= n) continue;
                                        up.threshold(maps, (p * units + u) * m.h() * m.w(), r.thresholds()[u], mask);
                                        boolean[] on = new boolean[ih * iw];
                                        for (int q = 0; q < on.length; q++) on[q] = mask.get(q);
                                        tiles[si][u][rank] = ImageCodec.png(MaskOverlay.scaled(MaskOverlay.tile(pixels, p * c * ih * iw, c, ih, iw, on), side));
                                    }
                                }
                            }
                        });
            }
            StringBuilder html = new StringBuilder();
            html.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Dissection of ").append(Html.escape(modelName)).append(" (")
                    .append(Html.escape(result.layer())).append(")</title>\n<style>body{font-family:sans-serif;margin:2em;max-width:1200px}"
                            + "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f0f0f0}"
                            + ".unit{margin:6px 0}.unit img{display:block}h2{margin-top:2em}</style></head><body>\n");
            html.append("<h1>Network dissection of ").append(Html.escape(modelName)).append(", layer ").append(Html.escape(result.layer())).append("</h1>\n");
            html.append("<p>").append(result.images()).append(" images of ").append(Html.escape(images.name())).append(result.unreadable() > 0
                    ? " (" + result.unreadable() + " unreadable, left out)" : "").append("; thresholds at the top ")
                    .append(String.format(Locale.ROOT, "%.2f%%", 100 * s.quantile())).append(" of each unit's activations (")
                    .append(result.real().exact() ? "exact" : "streaming REQ sketch").append("); a unit is aligned with its best label when IoU ≥ ")
                    .append(s.iou()).append(result.adversarial() == null ? "" : "; adversarial images by the least-likely class attack at ε = "
                            + s.eps() + " (pixel units), scored against the clean images' masks").append(". Units are numbered from 0, their "
                            + "channel in the layer (NetDissect's tally files, tally_*.csv, number them from 1).</p>\n");
            html.append("<h2>Table 2: aligned units per category (% of ").append(result.real().table().units()).append(" units)</h2>\n<table><tr><th>images</th>");
            for (String cat : result.concepts().categories()) html.append("<th>").append(Html.escape(cat)).append("</th>");
            html.append("<th>all</th></tr>\n");
            for (SetResult r : sets) {
                html.append("<tr><td>").append(r.set()).append("</td>");
                for (int ci = 0; ci < result.concepts().categories().size(); ci++) {
                    html.append(String.format(Locale.ROOT, "<td>%.1f</td>", r.table().percent(ci)));
                }
                html.append(String.format(Locale.ROOT, "<td>%.1f</td></tr>%n", 100.0 * r.table().totalAligned() / Math.max(1, r.table().units())));
            }
            html.append("</table>\n");
            for (int si = 0; si < sets.size(); si++) {
                SetResult r = sets.get(si);
                html.append("<h2>Units on ").append(r.set()).append(" images, best IoU first</h2>\n");
                List<UnitDissection> order = new ArrayList<>(r.units());
                order.sort((x, y) -> Double.compare(y.iou(), x.iou()));
                for (UnitDissection u : order) {
                    String label = u.label() < 0 ? "none" : result.concepts().names().get(u.label());
                    String cat = u.label() < 0 ? "" : result.concepts().categories().get(result.concepts().primary()[u.label()]);
                    String caption = String.format(Locale.ROOT, "unit %d: %s (%s), IoU %.3f%s", u.unit(), label, cat, u.iou(),
                            u.aligned(s.iou()) ? "" : " (not aligned)");
                    List<BufferedImage> ts = new ArrayList<>();
                    for (byte[] t : tiles[si][u.unit()]) if (t != null) ts.add(ImageCodec.decode(t));
                    String name = String.format("%s_unit%04d.png", r.set(), u.unit());
                    ImageCodec.writePng(strips.resolve(name), MaskOverlay.strip(ts, Math.max(96, side), caption));
                    html.append("<div class=\"unit\"><img src=\"").append(STRIPS).append('/').append(name).append("\" alt=\"").append(Html.escape(caption))
                            .append("\"></div>\n");
                }
            }
            html.append("</body></html>\n");
            AtomicFile.writeString(folder.file(HTML), html);
        }
    }
}
