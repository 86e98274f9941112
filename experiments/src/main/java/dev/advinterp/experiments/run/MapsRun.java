package dev.advinterp.experiments.run;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.io.AtomicFile;
import dev.advinterp.experiments.activations.MapPass;
import dev.advinterp.experiments.attacks.AttackSpec;
import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.experiments.data.ImageNetClasses;
import dev.advinterp.experiments.figures.MaskOverlay;
import dev.advinterp.experiments.figures.Occlusion;
import dev.advinterp.experiments.figures.UnitGrid;
import dev.advinterp.experiments.io.Csv;
import dev.advinterp.experiments.io.ImageCodec;
import dev.advinterp.experiments.metrics.dissection.TopImages;
import dev.advinterp.nn.io.Json;
import dev.advinterp.nn.models.ImageModel;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The paper's Figures 3–4: for chosen units, the top-activating real images and the top-activating
 * adversarial images (by default the targeted L2 attack of Eq. 4 towards a random other class, as
 * the paper's Figure 3), each with its discrepancy map ({@link Occlusion}), as a PNG grid per unit
 * ({@code unit_<n>.png}) and {@code maps.json} (the images, classes and predictions behind each).
 *
 * <p>Units (numbered from 0, their channel): given; or from a dissection of the same model, half
 * the units with the highest IoU on real images and half those whose best label changes most under
 * attack (the largest fall in IoU among those whose label changes); or, without one, the units
 * most strongly activated (the largest mean of their top activations).
 */
public final class MapsRun {
    public static final String JSON = "maps.json";
    public static final List<String> OUTPUTS = List.of("unit_*.png", JSON);

    /**
     * @param units      the units to draw (null: choose {@code count})
     * @param top        images per row
     * @param images     the images of the set searched for the top ones (their first N)
     */
    public record Settings(String layer, List<Integer> units, int count, int top, AttackSpec attack, int batch, Occlusion occlusion) {
        public Settings {
            if (count <= 0 || top <= 0 || batch <= 0) throw new IllegalArgumentException("--count, --top and --batch must be positive");
        }

        public static Settings defaults() {
            return new Settings(null, null, 4, 4, AttackSpec.targetedL2(AttackSpec.defaultSteps("targeted-l2")), 16, Occlusion.paper());
        }
    }

    /** What was drawn for one unit. */
    public record UnitMaps(int unit, String concept, List<TopImages.Entry> real, List<TopImages.Entry> adversarial, Path file) {
    }

    private MapsRun() {
    }

    /**
     * @param dissection a dissection run folder of the same model (its tallies choose the units and
     *                   name their concepts), or null
     */
    public static List<UnitMaps> run(ImageModel model, Dataset data, Settings s, Path dissection, RunFolder folder, String modelName,
                                     PrintStream out) throws IOException {
        String layer = s.layer() == null ? model.phiLayer() : s.layer();
        Map<Integer, String[]> tallies = dissection == null ? Map.of() : readTallies(dissection);
        int n = data.size(), c = data.channels(), h = data.height(), w = data.width(), per = c * h * w;
        // The adversarial images are kept (n of them: the set searched is meant to be small) to be occluded later.
        float[] adversarial = new float[Math.multiplyExact(n, per)];
        TopImages[] top = new TopImages[2];
        MapPass.run(model, data, s.attack(), layer, s.batch(), 0, true, "maps: top images (" + s.attack().name() + ")", out, m -> {
            if (top[0] == null) {
                top[0] = new TopImages(m.units(), s.top());
                top[1] = new TopImages(m.units(), s.top());
            }
            boolean[] skip = new boolean[m.batch().n()];
            for (int i = 0; i < skip.length; i++) skip[i] = !m.batch().readable(i);
            top[0].add(m.real(), m.offset(), m.batch().n(), m.h(), m.w(), skip);
            top[1].add(m.adversarial(), m.offset(), m.batch().n(), m.h(), m.w(), skip);
            System.arraycopy(m.adversarialImages(), 0, adversarial, m.offset() * per, m.batch().n() * per);
        });
        List<Integer> units = s.units() != null ? s.units() : choose(top[0], tallies, s.count());
        for (int u : units) {
            if (u < 0 || u >= top[0].units()) throw new IllegalArgumentException("--units: " + u + " is not a unit of " + layer + " (0.." + (top[0].units() - 1) + ")");
        }
        List<String> classes = data.classes();
        List<UnitMaps> drawn = new ArrayList<>();
        List<Object> json = new ArrayList<>();
        int side = Math.max(96, Math.min(160, h));
        long t0 = System.nanoTime();
        int occluded = 0;
        for (int u : units) {
            String[] t = tallies.get(u);
            String concept = concept(t);
            List<UnitGrid.Row> rows = new ArrayList<>();
            List<Object> unitJson = new ArrayList<>();
            for (int set = 0; set < 2; set++) {
                List<UnitGrid.Cell> cells = new ArrayList<>();
                for (TopImages.Entry e : top[set].of(u)) {
                    float[] image = set == 0 ? data.get(e.image(), null).image() : java.util.Arrays.copyOfRange(adversarial, e.image() * per, (e.image() + 1) * per);
                    int label = data.get(e.image(), null).label();
                    int predicted = predict(model, image, c, h, w);
                    float[] disc = s.occlusion().map(model, layer, u, image, 0, c, h, w);
                    occluded++;
                    BufferedImage img = ImageCodec.fromChw(image, 0, c, h, w);
                    BufferedImage map = MaskOverlay.tile(image, 0, c, h, w, Occlusion.region(disc, 0.5));
                    String caption = set == 0 ? name(classes, label)
                            : name(classes, label) + (predicted == label ? " (not fooled)" : " → " + name(classes, predicted));
                    cells.add(new UnitGrid.Cell(img, map, caption));
                    Map<String, Object> j = new LinkedHashMap<>();
                    j.put("set", set == 0 ? "real" : "adversarial");
                    j.put("image", e.image());
                    j.put("activation", (double) e.value());
                    j.put("class", name(classes, label));
                    j.put("predicted", name(classes, predicted));
                    unitJson.add(j);
                }
                rows.add(new UnitGrid.Row(set == 0 ? "top-activating real images (below: discrepancy map)"
                        : "top-activating adversarial images, " + s.attack().build().name() + " (class → taken for)", cells));
            }
            String title = String.format(Locale.ROOT, "%s, %s unit %d%s", modelName, layer, u, concept.isEmpty() ? "" : ": " + concept);
            Path file = folder.file(String.format("unit_%04d.png", u));
            ImageCodec.writePng(file, UnitGrid.draw(title, rows, side));
            drawn.add(new UnitMaps(u, concept, top[0].of(u), top[1].of(u), file));
            Map<String, Object> uj = new LinkedHashMap<>();
            uj.put("unit", u);
            uj.put("concept", concept);
            uj.put("file", file.getFileName().toString());
            uj.put("images", unitJson);
            json.add(uj);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("model", modelName);
        doc.put("layer", layer);
        doc.put("attack", s.attack().build().name());
        doc.put("images_searched", n);
        doc.put("occlusion", Map.of("patch", 11, "stride", 3, "occluded_images_per_image", s.occlusion().positions(h, w)));
        doc.put("seconds_per_discrepancy_map", occluded == 0 ? Double.NaN : seconds / occluded);
        doc.put("units", json);
        AtomicFile.writeString(folder.file(JSON), Json.pretty(doc));
        if (out != null) {
            out.printf(Locale.ROOT, "maps: %d discrepancy maps of %d occluded images each, %.2f s per image%n", occluded, s.occlusion().positions(h, w),
                    occluded == 0 ? 0 : seconds / occluded);
        }
        return drawn;
    }

    private static String name(List<String> classes, int label) {
        return label >= 0 && label < classes.size() ? ImageNetClasses.shortName(classes.get(label)) : Integer.toString(label);
    }

    private static int predict(ImageModel model, float[] image, int c, int h, int w) {
        try (var mode = model.inMode(false); Scope s = Scope.open()) {
            return Ops.argmax(model.call(Tensor.of(image, 1, c, h, w)))[0];
        }
    }

    /** Units by the rule in the class comment. */
    static List<Integer> choose(TopImages top, Map<Integer, String[]> tallies, int count) {
        List<Integer> out = new ArrayList<>();
        if (!tallies.isEmpty()) {
            List<Integer> all = new ArrayList<>(tallies.keySet());
            all.sort(Comparator.comparingDouble((Integer u) -> -Double.parseDouble(tallies.get(u)[2])));
            for (int u : all) if (out.size() < (count + 1) / 2) out.add(u);
            List<Integer> changed = new ArrayList<>(all.stream().filter(u -> !tallies.get(u)[0].equals(tallies.get(u)[3])).toList());
            changed.sort(Comparator.comparingDouble((Integer u) -> -(Double.parseDouble(tallies.get(u)[2]) - Double.parseDouble(tallies.get(u)[4]))));
            for (int u : changed) if (out.size() < count && !out.contains(u)) out.add(u);
            for (int u : all) if (out.size() < count && !out.contains(u)) out.add(u);
            return out;
        }
        List<Integer> all = new ArrayList<>();
        for (int u = 0; u < top.units(); u++) all.add(u);
        all.sort(Comparator.comparingDouble((Integer u) -> -top.of(u).stream().mapToDouble(TopImages.Entry::value).average().orElse(0)));
        return all.subList(0, Math.min(count, all.size()));
    }

    /** unit (0-based) → {real label, category, real IoU, adversarial label, adversarial IoU} from a dissection folder's tallies. */
    /** A unit's best label as a person reads it ("sky (scene, IoU 0.112)"); empty when no label overlaps it at all. */
    static String concept(String[] tally) {
        if (tally == null) return "";
        double iou = Double.parseDouble(tally[2]);
        return iou > 0 ? String.format(Locale.ROOT, "%s (%s, IoU %.3f)", tally[0], tally[1], iou) : "";
    }

    static Map<Integer, String[]> readTallies(Path dir) {
        Path real = dir.resolve(DissectionRun.TALLY_REAL), adv = dir.resolve(DissectionRun.TALLY_ADVERSARIAL);
        if (!Files.exists(real)) throw new IllegalArgumentException("--dissection " + dir + " holds no " + DissectionRun.TALLY_REAL + " (a folder of 'advinterp dissect')");
        Map<Integer, String[]> out = new LinkedHashMap<>();
        for (Csv.Row r : Csv.read(real, DissectionRun.TALLY_REAL).require("unit", "category", "label", "score").rows()) {
            out.put(r.integer("unit") - 1, new String[]{r.get("label"), r.get("category"), r.get("score"), r.get("label"), r.get("score")});
        }
        if (Files.exists(adv)) {
            for (Csv.Row r : Csv.read(adv, DissectionRun.TALLY_ADVERSARIAL).require("unit", "label", "score").rows()) {
                String[] e = out.get(r.integer("unit") - 1);
                if (e != null) {
                    e[3] = r.get("label");
                    e[4] = r.get("score");
                }
            }
        }
        return out;
    }
}
