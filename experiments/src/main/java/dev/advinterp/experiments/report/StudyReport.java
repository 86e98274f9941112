package dev.advinterp.experiments.report;

import dev.advinterp.engine.Machine;
import dev.advinterp.engine.io.AtomicFile;
import dev.advinterp.experiments.io.Html;
import dev.advinterp.experiments.training.ConsistentLoss;
import dev.advinterp.experiments.io.Csv;
import dev.advinterp.experiments.run.ConsistencyRun;
import dev.advinterp.experiments.run.DissectionRun;
import dev.advinterp.experiments.run.MapsRun;
import dev.advinterp.experiments.run.Preset;
import dev.advinterp.experiments.run.ReproduceRun;
import dev.advinterp.experiments.run.TrainRun;
import dev.advinterp.nn.io.Json;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The report of a {@link ReproduceRun}: Tables 1–3 with the paper's numbers beside this run's,
 * Figure 5 (ResNet-18 and ResNet-18-Adv), Figures 3–4 (VGG-16 and VGG-16-Adv), a sentence per
 * table on whether the paper's finding shows, the training of each model, the settings and seeds,
 * the machine and the time of every stage. Built from the files the stages wrote (so a resumed run
 * reports what earlier processes measured), into:
 * <ul>
 *   <li>{@code tables/}: table1.csv, table2.csv, table3.csv, training.csv and study.json (every
 *       number of the report);</li>
 *   <li>{@code figures/}: the figures, copied for report.md's links;</li>
 *   <li>{@code report.md}, and {@code report.html} with the figures inside it (one file to send).</li>
 * </ul>
 * The paper's numbers come from {@code paper.json} beside this class; where it holds none, the
 * report prints a dash and says that they are not transcribed.
 */
public final class StudyReport {
    public static final String MARKDOWN = "report.md", HTML = "report.html", TABLES = "tables", FIGURES = "figures";
    /** A model under this clean validation accuracy has learnt too little for its metrics to mean much (three times chance on ten classes). */
    public static final double MIN_ACCURACY = 0.30;
    static final List<String> CATEGORIES = List.of("color", "texture", "material", "scene", "part", "object");

    private final Path dir;
    private final Preset preset;
    private final ReproduceRun.External external;
    private final List<ReproduceRun.Member> members;
    private final Map<String, Object> paper;
    /** How the measurements were made, from where the run takes them, so that the text cannot drift from the run. */
    private final ConsistencyRun.Settings consistency;
    private static final ConsistentLoss.Options LOSS = ReproduceRun.CONSISTENT_LOSS;
    private final List<Block> blocks = new ArrayList<>();
    private final Map<String, Object> study = new LinkedHashMap<>();

    /** A piece of the report: a heading, a paragraph, a table or a figure. */
    private sealed interface Block {
    }

    private record Heading(int level, String text) implements Block {
    }

    private record Paragraph(String text) implements Block {
    }

    private record Table(List<String> header, List<List<String>> rows) implements Block {
    }

    private record Figure(Path file, String caption) implements Block {
    }

    private StudyReport(Path dir, Preset preset, ReproduceRun.External external, List<ReproduceRun.Member> members) {
        this.dir = dir;
        this.preset = preset;
        this.external = external;
        this.members = members;
        this.paper = paperNumbers();
        this.consistency = ReproduceRun.consistencySettings(preset);
    }

    /**
     * Writes the report of the study in {@code dir}.
     *
     * @param stages the finished stages (id → {title, seconds, finished}), from stages.json
     */
    public static void write(Path dir, Preset preset, ReproduceRun.External external, List<ReproduceRun.Member> members, String device,
                             Map<String, Object> stages) throws IOException {
        new StudyReport(dir, preset, external, members).build(device, stages);
    }

    private void build(String device, Map<String, Object> stages) throws IOException {
        Files.createDirectories(dir.resolve(TABLES));
        Files.createDirectories(dir.resolve(FIGURES));
        boolean transcribed = Boolean.TRUE.equals(paper.get("transcribed"));
        blocks.add(new Heading(1, "Interpretability through adversarial examples: the study, reproduced"));
        blocks.add(new Paragraph("Dong, Bao, Su and Zhu measure how consistently the units of a network's last convolutional layer respond "
                + "to semantically related classes, on real images and on adversarial ones, and train networks with a consistent loss "
                + "(Eq. 6) that keeps them consistent. This report reruns their measurements. **The paper** ran on ImageNet and Broden at "
                + "224 px with full-width networks trained on ImageNet; **this run** ran on " + dataWords() + "."
                + (external == null ? " The numbers are therefore comparable in direction, not in value." : "")
                + (transcribed ? "" : " The paper's columns show a dash: its numbers are not yet transcribed into this version of advinterp "
                + "(the resource report/paper.json holds a null for each, to be copied from the paper's Tables 1–3), and none is filled in "
                + "from memory.")));
        training();
        table3();
        table1();
        table2();
        maps();
        settings(device);
        stages(stages);
        AtomicFile.writeString(dir.resolve(TABLES).resolve("study.json"), Json.pretty(study));
        AtomicFile.writeString(dir.resolve(MARKDOWN), markdown());
        AtomicFile.writeString(dir.resolve(HTML), html());
    }

    private String dataWords() {
        if (external != null) {
            return "ImageNet's validation images (" + external.imagenet() + ") and the Broden images of " + external.broden()
                    + ", with torchvision's pretrained networks (" + external.weights() + ") and the measurement sizes of preset " + preset.name();
        }
        var s = preset.scenes();
        return String.format(Locale.ROOT, "the generated scenes (%,d images of %d px, %s setting; 10 classes named by WordNet ids; "
                + "Broden-style concept masks), with the networks at the widths and epochs below (preset %s)", s.images(), s.size(), s.difficulty().id(), preset.name());
    }

    // ---- sections

    private void training() throws IOException {
        blocks.add(new Heading(2, "The models"));
        List<List<String>> rows = new ArrayList<>();
        List<List<?>> csv = new ArrayList<>();
        List<String> weak = new ArrayList<>();
        List<Object> json = new ArrayList<>();
        for (ReproduceRun.Member m : members) {
            boolean imported = external != null && !m.adversarial();
            List<?> epochs = imported ? List.of() : readList(dir.resolve(ReproduceRun.MODELS).resolve(m.id()).resolve(TrainRun.METRICS_JSON));
            Map<?, ?> last = epochs.isEmpty() ? Map.of() : (Map<?, ?>) epochs.getLast();
            double val = imported ? number(sub(consistencyJson(m), "accuracy").get("top1")) : number(last.get("val_accuracy")), seconds = 0;
            for (Object e : epochs) seconds += number(((Map<?, ?>) e).get("seconds"));
            if (external == null && !(val >= MIN_ACCURACY)) weak.add(m.title());
            String how = imported ? "torchvision's ImageNet weights, imported"
                    : m.adversarial() ? String.format(Locale.ROOT, "consistent loss (α %s, β %s, FGSM ε %s), fine-tuned from %s at lr %s",
                    plain(LOSS.alpha()), plain(LOSS.beta()), plain(LOSS.epsPixels()), new ReproduceRun.Member(m.training(), false).title(),
                    preset.advLr())
                    : "cross-entropy from scratch, lr " + m.training().lr() + ", schedule " + Preset.SCHEDULE;
            rows.add(List.of(m.title(), m.training().arch().id(), fmt(m.training().width(), 3), String.valueOf(epochs.size()), how, pct(val), duration(seconds)));
            csv.add(List.of(m.title(), m.training().arch().id(), m.training().width(), epochs.size(), how, val, seconds));
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("model", m.title());
            j.put("arch", m.training().arch().id());
            j.put("width", m.training().width());
            j.put("epochs", epochs.size());
            j.put("val_accuracy", val);
            j.put("seconds", seconds);
            json.add(j);
        }
        study.put("training", json);
        List<String> header = List.of("model", "architecture", "width", "epochs", "training", "clean val. accuracy", "time");
        Csv.write(dir.resolve(TABLES).resolve("training.csv"), List.of("model", "arch", "width", "epochs", "training", "val_accuracy", "seconds"), csv);
        blocks.add(new Table(header, rows));
        if (external != null) return;
        blocks.add(new Paragraph(weak.isEmpty()
                ? "Every model reaches at least " + pct(MIN_ACCURACY) + " clean validation accuracy (three times chance), so the metrics below measure networks that have learnt the classes."
                : "**Below " + pct(MIN_ACCURACY) + " clean validation accuracy (three times chance): " + String.join(", ", weak)
                + ".** Their metrics mean little" + (preset.name().equals("quick") ? " (the quick preset is a smoke run)." : ".")));
    }

    private void table3() throws IOException {
        blocks.add(new Heading(2, "Table 3: accuracy on clean and FGSM images"));
        Map<?, ?> p3 = sub(paper, "table3");
        List<List<String>> rows = new ArrayList<>();
        List<List<?>> csv = new ArrayList<>();
        Map<String, Object> json = new LinkedHashMap<>();
        for (ReproduceRun.Member m : members) {
            Map<?, ?> a = sub(consistencyJson(m), "accuracy");
            Map<?, ?> p = sub(p3, m.title());
            double t1 = number(a.get("top1")), t5 = number(a.get("top5")), f1 = number(a.get("adversarial_top1")), f5 = number(a.get("adversarial_top5"));
            rows.add(List.of(m.title(), pct(t1), pct(t5), pct(f1), pct(f5), paperPct(p.get("top1")), paperPct(p.get("top5")),
                    paperPct(p.get("fgsm_top1")), paperPct(p.get("fgsm_top5"))));
            csv.add(List.of(m.title(), t1, t5, f1, f5, paperValue(p.get("top1")), paperValue(p.get("top5")), paperValue(p.get("fgsm_top1")),
                    paperValue(p.get("fgsm_top5"))));
            json.put(m.title(), a);
        }
        study.put("table3", json);
        Csv.write(dir.resolve(TABLES).resolve("table3.csv"), List.of("model", "top1", "top5", "fgsm_top1", "fgsm_top5", "paper_top1", "paper_top5",
                "paper_fgsm_top1", "paper_fgsm_top5"), csv);
        blocks.add(new Table(List.of("model", "top-1", "top-5", "FGSM top-1", "FGSM top-5", "paper top-1", "paper top-5", "paper FGSM top-1",
                "paper FGSM top-5"), rows));
        blocks.add(new Paragraph("FGSM at ε = " + plain(consistency.attack().eps()) + " (pixel units of 1/255), on every validation image "
                + "this run evaluates. " + finding3()));
    }

    /** Each normal model with its -Adv model, where this run has both. */
    private List<ReproduceRun.Member[]> pairs() {
        List<ReproduceRun.Member[]> out = new ArrayList<>();
        for (ReproduceRun.Member n : members) {
            ReproduceRun.Member a = new ReproduceRun.Member(n.training(), true);
            if (!n.adversarial() && members.contains(a)) out.add(new ReproduceRun.Member[]{n, a});
        }
        return out;
    }

    private static final String NO_ADV = "This run has no consistent-loss models (a full-scale study trains them only on a GPU), so the paper's "
            + "comparison of normal and -Adv models cannot be made here.";

    private String finding3() throws IOException {
        if (pairs().isEmpty()) return NO_ADV;
        List<String> robust = new ArrayList<>(), fragile = new ArrayList<>();
        for (ReproduceRun.Member[] pair : pairs()) {
            ReproduceRun.Member n = pair[0], a = pair[1];
            double fn = number(sub(consistencyJson(n), "accuracy").get("adversarial_top1"));
            double fa = number(sub(consistencyJson(a), "accuracy").get("adversarial_top1"));
            (fa > fn ? robust : fragile).add(String.format(Locale.ROOT, "%s %s against %s", a.title(), pct(fa), pct(fn)));
        }
        return "The paper finds the consistent-loss models more robust to FGSM at a small cost in clean accuracy. Here the -Adv model has the "
                + "higher FGSM top-1 for " + (robust.isEmpty() ? "none of the architectures" : String.join("; ", robust))
                + (fragile.isEmpty() ? "." : ", and not for " + String.join("; ", fragile) + ".");
    }

    private void table1() throws IOException {
        blocks.add(new Heading(2, "Table 1: consistency of the last convolutional layer"));
        Map<?, ?> p1 = sub(paper, "table1");
        List<List<String>> rows = new ArrayList<>();
        List<List<?>> csv = new ArrayList<>();
        Map<String, Object> json = new LinkedHashMap<>();
        for (ReproduceRun.Member m : members) {
            Map<?, ?> c = sub(consistencyJson(m), "consistency");
            Map<?, ?> p = sub(p1, m.title());
            double consis = number(c.get("mean_consis")), adv = number(c.get("mean_consis_adv"));
            rows.add(List.of(m.title(), String.valueOf(c.get("layer")), fmt(consis, 3), fmt(adv, 3), fmt(consis - adv, 3),
                    undefined(c), paperFmt(p.get("consis")), paperFmt(p.get("consis_adv"))));
            csv.add(List.of(m.title(), String.valueOf(c.get("layer")), consis, adv, String.valueOf(c.get("undefined_real")),
                    String.valueOf(c.get("undefined_adversarial")), paperValue(p.get("consis")), paperValue(p.get("consis_adv"))));
            json.put(m.title(), c);
        }
        study.put("table1", json);
        Csv.write(dir.resolve(TABLES).resolve("table1.csv"), List.of("model", "layer", "consis", "consis_adv", "undefined_real", "undefined_adversarial",
                "paper_consis", "paper_consis_adv"), csv);
        blocks.add(new Table(List.of("model", "layer φ", "consis", "consis_adv", "drop", "units undefined (real/adv.)", "paper consis",
                "paper consis_adv"), rows));
        blocks.add(new Paragraph("Means over the units whose consistency is defined (at least " + consistency.minImages() + " activating "
                + "images); adversarial images by FGSM at ε = " + plain(consistency.attack().eps()) + ". " + findingDrop("consis", "consis_adv", this::consistencyPair, 3)));
        for (ReproduceRun.Member m : members) {
            if (m.training().arch() != dev.advinterp.nn.models.Architecture.RESNET18) continue;
            Path f = evaluation(m, "consistency").resolve(ConsistencyRun.FIGURE);
            if (Files.exists(f)) {
                blocks.add(new Figure(copyFigure(f, "figure5-" + m.id() + ".png"), "Figure 5: the distribution of consis (real) and consis_adv "
                        + "(adversarial) over the units of " + m.title() + "."));
            }
        }
    }

    private double[] consistencyPair(ReproduceRun.Member m) throws IOException {
        Map<?, ?> c = sub(consistencyJson(m), "consistency");
        return new double[]{number(c.get("mean_consis")), number(c.get("mean_consis_adv"))};
    }

    private void table2() throws IOException {
        blocks.add(new Heading(2, "Table 2: units aligned with a concept, on real and adversarial images"));
        Map<?, ?> p2 = sub(paper, "table2");
        List<String> header = new ArrayList<>(List.of("model", "images"));
        for (String c : CATEGORIES) header.add(c);
        header.addAll(List.of("all units", "paper"));
        List<String> csvHeader = new ArrayList<>(List.of("model", "set", "units"));
        for (String c : CATEGORIES) csvHeader.add(c + "_percent");
        csvHeader.addAll(List.of("aligned", "aligned_percent", "paper_aligned_percent"));
        List<List<String>> rows = new ArrayList<>();
        List<List<?>> csv = new ArrayList<>();
        Map<String, Object> json = new LinkedHashMap<>();
        for (ReproduceRun.Member m : members) {
            Map<String, Object> d = readObject(evaluation(m, "dissection").resolve(DissectionRun.JSON));
            json.put(m.title(), d);
            Map<?, ?> p = sub(p2, m.title());
            for (String set : List.of("real", "adversarial")) {
                Map<?, ?> t = sub(d, set);
                Map<?, ?> per = sub(t, "categories");
                double units = number(t.get("units")), aligned = number(t.get("aligned"));
                List<String> row = new ArrayList<>(List.of(set.equals("real") ? m.title() : "", set));
                List<Object> c = new ArrayList<>(List.of(m.title(), set, units));
                for (String cat : CATEGORIES) {
                    double v = number(sub(per, cat).get("percent"));
                    row.add(fmt(v, 1) + "%");
                    c.add(v);
                }
                row.add(String.format(Locale.ROOT, "%.0f of %.0f (%s)", aligned, units, fmt(100 * aligned / units, 1) + "%"));
                row.add(paperPct(p.get(set)));
                c.addAll(List.of(aligned, 100 * aligned / units, paperValue(p.get(set))));
                rows.add(row);
                csv.add(c);
            }
        }
        study.put("table2", json);
        Csv.write(dir.resolve(TABLES).resolve("table2.csv"), csvHeader, csv);
        blocks.add(new Table(header, rows));
        DissectionRun.Settings ds = ReproduceRun.dissectionSettings(preset);
        blocks.add(new Paragraph(String.format(Locale.ROOT, "Network dissection (NetDissect's rules: each unit's threshold at its top %s%% of "
                        + "activations, aligned when its best label's IoU ≥ %s) on the first %d validation images, real and after the iterative "
                        + "least-likely class attack at ε = %s pixel units, with the clean images' masks for both. Per category: the share of the "
                        + "layer's units aligned with a label of that category. ", plain(100 * ds.quantile()), plain(ds.iou()), preset.dissectImages(), plain(preset.dissectEps()))
                + findingDrop("aligned units on real images", "aligned units on adversarial images", this::alignedPair, 0)));
    }

    private double[] alignedPair(ReproduceRun.Member m) throws IOException {
        Map<String, Object> d = readObject(evaluation(m, "dissection").resolve(DissectionRun.JSON));
        return new double[]{number(sub(d, "real").get("aligned")),
                number(sub(d, "adversarial").get("aligned"))};
    }

    @FunctionalInterface
    private interface Pair {
        double[] of(ReproduceRun.Member m) throws IOException;
    }

    /**
     * The paper's finding on a real/adversarial pair of measures: for the normal models the
     * adversarial value is well below the real one, for the consistent-loss models the drop is much
     * smaller. Said per architecture, from the numbers as the report prints them (a difference
     * that rounds away is not a finding).
     */
    private String findingDrop(String real, String adversarial, Pair pair, int decimals) throws IOException {
        if (pairs().isEmpty()) return NO_ADV;
        List<String> shows = new ArrayList<>(), not = new ArrayList<>();
        for (ReproduceRun.Member[] both : pairs()) {
            ReproduceRun.Member n = both[0], a = both[1];
            double[] pn = pair.of(n), pa = pair.of(a);
            double dn = pn[0] - pn[1], da = pa[0] - pa[1];
            String base = n.title();
            String what = n.title() + " " + change(pn, decimals) + ", " + a.title() + " " + change(pa, decimals);
            if (smallerDropAsPrinted(dn, da, decimals)) shows.add(base + " (" + what + ")");
            else not.add(base + " (" + what + ")");
        }
        String s = "The paper's finding — " + adversarial + " well below " + real + " for the normal models, and a much smaller drop for the "
                + "consistent-loss models — ";
        if (not.isEmpty()) return s + "shows here for every architecture: " + String.join("; ", shows) + ".";
        if (shows.isEmpty()) return s + "does not show here: " + String.join("; ", not) + ".";
        return s + "shows for " + String.join("; ", shows) + ", and not for " + String.join("; ", not) + ".";
    }

    /**
     * Whether the normal model's drop {@code normal} is positive and the consistent-loss model's
     * {@code adv} smaller, both rounded to the {@code decimals} the report prints: the sentence
     * never claims a difference the reader cannot see in the table.
     */
    static boolean smallerDropAsPrinted(double normal, double adv, int decimals) {
        double scale = Math.pow(10, decimals);
        double n = Math.round(normal * scale) / scale, a = Math.round(adv * scale) / scale;
        return n > 0 && a < n;
    }

    /** "drops by 0.120 (15%)", "rises by 2 (12%)" or "is undefined": the real value minus the adversarial one. */
    private static String change(double[] p, int decimals) {
        if (!Double.isFinite(p[0]) || !Double.isFinite(p[1])) return "is undefined";
        double d = p[0] - p[1];
        String rel = p[0] != 0 ? String.format(Locale.ROOT, " (%.0f%%)", 100 * Math.abs(d) / Math.abs(p[0])) : "";
        return (d >= 0 ? "drops by " : "rises by ") + fmt(Math.abs(d), decimals) + rel;
    }

    private void maps() throws IOException {
        blocks.add(new Heading(2, "Figures 3–4: top images of units, real and adversarial, with discrepancy maps"));
        blocks.add(new Paragraph(String.format(Locale.ROOT, "For VGG-16 and VGG-16-Adv: units chosen by the dissection (the largest fall in "
                + "IoU among those whose label changes under the attack), each with its top %d real images (top row) and its top %d adversarial "
                + "images (targeted L2 attack, %d Adam steps per λ round, searched over the first %d validation images), and beside each image "
                + "the region whose occlusion changes the unit's activation most (the paper's discrepancy map). The paper's finding: on the "
                + "normal model a unit's adversarial top images are not of its concept; on the -Adv model they are more often.",
                preset.mapsTop(), preset.mapsTop(), preset.mapsIterations(), preset.mapsImages())));
        for (ReproduceRun.Member m : members) {
            Path maps = evaluation(m, "maps");
            if (!Files.exists(maps.resolve(MapsRun.JSON))) continue;
            Map<String, Object> j = readObject(maps.resolve(MapsRun.JSON));
            study.put("maps_" + m.id(), j);
            if (j.get("units") instanceof List<?> units) {
                for (Object o : units) {
                    Map<?, ?> u = (Map<?, ?>) o;
                    Path f = maps.resolve(String.valueOf(u.get("file")));
                    String concept = String.valueOf(u.get("concept"));
                    blocks.add(new Figure(copyFigure(f, m.id() + "-" + f.getFileName()), m.title() + ", unit " + u.get("unit")
                            + (concept.isEmpty() ? "" : ": " + concept)));
                }
            }
        }
    }

    private void settings(String device) {
        blocks.add(new Heading(2, "Settings, seeds and machine"));
        Map<String, Object> p = preset.json();
        List<List<String>> rows = new ArrayList<>();
        p.forEach((k, v) -> {
            if (!k.equals("models")) rows.add(List.of(k, String.valueOf(v)));
        });
        rows.add(List.of("seeds", "data " + preset.scenes().seed() + "; normal training 1; consistent-loss training 2; attacks 1"));
        rows.add(List.of("consistency", "φ = the last convolutional layer; an image activates a unit when its spatial maximum is among the "
                + "unit's top " + fmt(100 * preset.activation().q(), 0) + "% on the real images (" + preset.activation().id()
                + "); σ = " + plain(consistency.sigma()) + "; at least " + consistency.minImages() + " activating images"));
        rows.add(List.of("device", device));
        rows.add(List.of("machine", machine()));
        rows.add(List.of("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ", max heap "
                + (Runtime.getRuntime().maxMemory() >> 20) + " MB"));
        blocks.add(new Table(List.of("setting", "value"), rows));
        study.put("settings", p);
        study.put("device", device);
        study.put("machine", machine());
    }

    private void stages(Map<String, Object> stages) {
        blocks.add(new Heading(2, "Time of every stage"));
        List<List<String>> rows = new ArrayList<>();
        double total = 0;
        for (Object o : stages.values()) {
            Map<?, ?> s = (Map<?, ?>) o;
            if ("report".equals(s.get("id"))) continue; // the report is being written now
            double secs = number(s.get("seconds"));
            total += secs;
            rows.add(List.of(String.valueOf(s.get("title")), duration(secs), String.valueOf(s.get("finished"))));
        }
        rows.add(List.of("**all stages before the report**", duration(total), ""));
        blocks.add(new Table(List.of("stage", "time", "finished at"), rows));
        blocks.add(new Paragraph("A stage interrupted and continued counts only the time of the process that finished it."));
        study.put("stages", stages);
    }

    // ---- rendering

    private String markdown() {
        StringBuilder sb = new StringBuilder();
        for (Block b : blocks) {
            switch (b) {
                case Heading h -> sb.append("#".repeat(h.level())).append(' ').append(h.text()).append("\n\n");
                case Paragraph p -> sb.append(p.text()).append("\n\n");
                case Table t -> {
                    sb.append("| ").append(String.join(" | ", t.header())).append(" |\n|");
                    sb.append("---|".repeat(t.header().size())).append('\n');
                    for (List<String> r : t.rows()) sb.append("| ").append(String.join(" | ", r.stream().map(x -> x.replace("|", "\\|")).toList())).append(" |\n");
                    sb.append('\n');
                }
                case Figure f -> sb.append("![").append(f.caption()).append("](").append(dir.relativize(f.file()).toString().replace('\\', '/'))
                        .append(")\n\n*").append(f.caption()).append("*\n\n");
            }
        }
        return sb.toString();
    }

    private String html() throws IOException {
        StringBuilder sb = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>advinterp: the study, reproduced</title>\n")
                .append("<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}")
                .append("table{border-collapse:collapse;margin:1em 0;font-size:.92em}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}")
                .append("th{background:#f0f0f0}tr:nth-child(even) td{background:#fafafa}figure{margin:1.5em 0}img{max-width:100%;border:1px solid #ddd}")
                .append("figcaption{font-style:italic;color:#555}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}</style></head><body>\n");
        for (Block b : blocks) {
            switch (b) {
                case Heading h -> sb.append("<h").append(h.level()).append('>').append(inline(h.text())).append("</h").append(h.level()).append(">\n");
                case Paragraph p -> sb.append("<p>").append(inline(p.text())).append("</p>\n");
                case Table t -> {
                    sb.append("<table><thead><tr>");
                    for (String x : t.header()) sb.append("<th>").append(inline(x)).append("</th>");
                    sb.append("</tr></thead><tbody>\n");
                    for (List<String> r : t.rows()) {
                        sb.append("<tr>");
                        for (String x : r) sb.append("<td>").append(inline(x)).append("</td>");
                        sb.append("</tr>\n");
                    }
                    sb.append("</tbody></table>\n");
                }
                case Figure f -> sb.append("<figure><img alt=\"").append(Html.escape(f.caption())).append("\" src=\"data:image/png;base64,")
                        .append(Base64.getEncoder().encodeToString(Files.readAllBytes(f.file()))).append("\"><figcaption>")
                        .append(Html.escape(f.caption())).append("</figcaption></figure>\n");
            }
        }
        return sb.append("</body></html>\n").toString();
    }

    /** HTML of a text with markdown's **bold**. */
    private static String inline(String s) {
        String[] parts = Html.escape(s).split("\\*\\*", -1);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) sb.append(i % 2 == 1 ? "<strong>" : "</strong>");
            sb.append(parts[i]);
        }
        if (parts.length % 2 == 0) sb.append("</strong>");
        return sb.toString();
    }

    // ---- reading

    private Path evaluation(ReproduceRun.Member m, String what) {
        return dir.resolve(ReproduceRun.EVALUATION).resolve(m.id()).resolve(what);
    }

    private Map<String, Object> consistencyJson(ReproduceRun.Member m) throws IOException {
        return readObject(evaluation(m, "consistency").resolve(ConsistencyRun.JSON));
    }

    private static Map<String, Object> readObject(Path f) throws IOException {
        if (!Files.exists(f)) throw new IllegalStateException("the report needs " + f + ", which a finished stage should have written");
        return Json.readObject(f);
    }

    private static List<?> readList(Path f) throws IOException {
        if (!Files.exists(f)) throw new IllegalStateException("the report needs " + f + ", which a finished stage should have written");
        Object v = Json.parse(Files.readString(f, StandardCharsets.UTF_8), f.toString(), false);
        if (!(v instanceof List<?> l)) throw new IllegalArgumentException(f + ": expected a JSON array");
        return l;
    }

    private Path copyFigure(Path from, String name) throws IOException {
        Path to = dir.resolve(FIGURES).resolve(name);
        AtomicFile.writeBytes(to, Files.readAllBytes(from));
        return to;
    }

    private static Map<String, Object> paperNumbers() {
        try (InputStream in = StudyReport.class.getResourceAsStream("paper.json")) {
            if (in == null) throw new IllegalStateException("paper.json is missing from the classpath");
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) Json.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "paper.json", false);
            return m;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String undefined(Map<?, ?> c) {
        return c.get("undefined_real") + " / " + c.get("undefined_adversarial") + " of " + c.get("units");
    }

    /** The object at {@code key} of a JSON object, or an empty one. */
    private static Map<?, ?> sub(Map<?, ?> m, Object key) {
        return m.get(key) instanceof Map<?, ?> x ? x : Map.of();
    }

    static double number(Object o) {
        return o instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    static String fmt(double v, int decimals) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + decimals + "f", v) : "—";
    }

    /** A setting as a person writes it: 1, 0.5, 0.04 (no trailing zeros). */
    static String plain(double v) {
        return new java.math.BigDecimal(Float.toString((float) v)).stripTrailingZeros().toPlainString();
    }

    static String pct(double fraction) {
        return Double.isFinite(fraction) ? String.format(Locale.ROOT, "%.1f%%", 100 * fraction) : "—";
    }

    private static Object paperValue(Object o) {
        return o instanceof Number ? o : "";
    }

    private static String paperFmt(Object o) {
        return o instanceof Number n ? fmt(n.doubleValue(), 3) : "—";
    }

    private static String paperPct(Object o) {
        return o instanceof Number n ? fmt(n.doubleValue(), 1) + "%" : "—";
    }

    /** 75 s as "1 min 15 s". */
    public static String duration(double seconds) {
        if (!Double.isFinite(seconds)) return "—";
        long s = Math.round(seconds);
        if (s < 60) return String.format(Locale.ROOT, "%.1f s", seconds);
        if (s < 3600) return s / 60 + " min " + s % 60 + " s";
        return s / 3600 + " h " + s % 3600 / 60 + " min";
    }

    private static String machine() {
        return String.format(Locale.ROOT, "%s, %d cores; %s %s (%s)", Machine.cpuModel().orElse("unknown CPU"), Runtime.getRuntime().availableProcessors(), System.getProperty("os.name"),
                System.getProperty("os.version"), System.getProperty("os.arch"));
    }
}
