package dev.advinterp.experiments.run;

import dev.advinterp.engine.Ops;
import dev.advinterp.engine.Scope;
import dev.advinterp.engine.Tensor;
import dev.advinterp.engine.io.AtomicFile;
import dev.advinterp.experiments.attacks.Attack;
import dev.advinterp.experiments.attacks.AttackResult;
import dev.advinterp.experiments.attacks.AttackSpec;
import dev.advinterp.experiments.data.BatchLoader;
import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.experiments.io.Csv;
import dev.advinterp.experiments.io.ImageCodec;
import dev.advinterp.nn.io.Json;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.train.Batch;
import dev.advinterp.nn.train.ProgressBar;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Attacks every image of an evaluation set, batch by batch, and streams the results: a row per
 * image appended to {@code results.csv} (flushed after every batch), the adversarial images as
 * {@code adv_<index>.png}, and, once every image is done, {@code summary.json}. A run started again
 * on its folder with {@code resume} continues after the last complete row (a row cut short by a
 * kill is dropped and redone).
 *
 * <p>The success rate is measured as the attack literature does: over the images the model
 * classifies correctly when clean; the clean errors are counted beside it (an image that is
 * already misclassified says nothing about the attack).
 */
public final class AttackRun {
    public static final List<String> HEADER = List.of("index", "label", "target", "clean_prediction", "adversarial_prediction", "success",
            "l2", "linf", "confidence");
    public static final String RESULTS = "results.csv", SUMMARY = "summary.json";
    /** The files an attack run writes into its folder (what --force replaces). */
    public static final List<String> OUTPUTS = List.of(RESULTS, SUMMARY, "adv_*.png");

    /** One image's result; {@code target} is -1 for a non-targeted attack. Distances are in pixel units. */
    public record Row(int index, int label, int target, int clean, int adversarial, boolean success, float l2, float linf,
                      float confidence) {
        List<Object> fields() {
            return List.of(index, label, target < 0 ? "" : Integer.toString(target), clean, adversarial, success,
                    String.format(Locale.ROOT, "%.4f", l2), String.format(Locale.ROOT, "%.4f", linf), String.format(Locale.ROOT, "%.6f", confidence));
        }

        /** The attack's own verdict counts only for images the model got right when clean. */
        boolean cleanCorrect() {
            return clean == label;
        }
    }

    /**
     * @param images       images in the set
     * @param cleanCorrect images classified correctly when clean: the ones the success rate is over
     * @param succeeded    of those, the ones the attack succeeded on
     * @param cleanErrors  images misclassified before any attack
     * @param rawSucceeded successes over all images (the attack's verdict, clean errors included)
     */
    public record Summary(String attack, String dataset, int images, int cleanCorrect, int succeeded, int cleanErrors, int rawSucceeded,
                          double meanL2, double meanLinf) {
        public double successRate() {
            return cleanCorrect == 0 ? Double.NaN : (double) succeeded / cleanCorrect;
        }

        public Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("attack", attack);
            m.put("dataset", dataset);
            m.put("images", images);
            m.put("clean_correct", cleanCorrect);
            m.put("clean_errors", cleanErrors);
            m.put("succeeded", succeeded);
            m.put("success_rate", successRate());
            m.put("success_rate_note", "over the images classified correctly when clean");
            m.put("succeeded_all_images", rawSucceeded);
            m.put("mean_l2_pixels", meanL2);
            m.put("mean_linf_pixels", meanLinf);
            return m;
        }

        public String describe() {
            return String.format(Locale.ROOT, "success rate %.2f%% (%d of the %d images classified correctly when clean; %d clean errors not counted)",
                    100 * successRate(), succeeded, cleanCorrect, cleanErrors);
        }
    }

    /** @param writeImages whether to write the adversarial images as PNG */
    public record Options(int batch, boolean writeImages) {
        public Options {
            if (batch <= 0) throw new IllegalArgumentException("--batch must be positive, got " + batch);
        }
    }

    private AttackRun() {
    }

    /**
     * Attacks {@code data} and writes into {@code folder}; {@code rows} (may be null) sees every new
     * row as it is written. Returns the summary over all rows, resumed ones included.
     */
    public static Summary run(ImageModel model, Dataset data, AttackSpec spec, Options options, RunFolder folder, PrintStream out,
                              Consumer<Row> rows) throws IOException {
        Path csv = folder.file(RESULTS);
        List<Row> done = folder.resumed() ? readResults(csv) : List.of();
        if (!folder.resumed() || !Files.exists(csv)) AtomicFile.writeString(csv, Csv.line(HEADER));
        Tally tally = new Tally();
        done.forEach(tally::add);
        Attack attack = spec.build();
        if (out != null) {
            out.printf("attack: %s on %s, %d images%s%n", attack.name(), data.name(), data.size(),
                    done.isEmpty() ? "" : ", resuming after " + done.size());
        }
        int start = done.size();
        try (BatchLoader loader = BatchLoader.evaluation(data, options.batch());
             FileChannel append = FileChannel.open(csv, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
             ProgressBar bar = new ProgressBar(out, attack.name(), data.size() - start)) {
            int index = 0;
            for (Iterator<Batch> it = loader.epoch(0); it.hasNext(); ) {
                Batch b = it.next();
                if (index + b.n() <= start) {
                    index += b.n();
                    continue;
                }
                List<Row> batchRows = attackBatch(model, attack, spec, b, index, options, folder, start);
                StringBuilder text = new StringBuilder();
                for (Row r : batchRows) {
                    text.append(Csv.line(r.fields()));
                    tally.add(r);
                    if (rows != null) rows.accept(r);
                }
                ByteBuffer bytes = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
                while (bytes.hasRemaining()) append.write(bytes);
                append.force(false);
                bar.step(batchRows.size(), String.format(Locale.ROOT, "success %.1f%%", 100 * tally.summary(attack.name(), data.name()).successRate()));
                index += b.n();
            }
        }
        Summary summary = tally.summary(attack.name(), data.name());
        AtomicFile.writeString(folder.file(SUMMARY), Json.pretty(summary.json()));
        return summary;
    }

    private static List<Row> attackBatch(ImageModel model, Attack attack, AttackSpec spec, Batch b, int index, Options options,
                                         RunFolder folder, int start) throws IOException {
        List<Row> out = new ArrayList<>(b.n());
        try (Scope s = Scope.open()) {
            Tensor x = b.tensor();
            int[] clean;
            try (var mode = model.inMode(false); Scope inner = Scope.open()) {
                clean = Ops.argmax(model.call(x));
            }
            int[] goal = spec.goals(attack, model, x, b.labels(), index);
            // ILLC's run finds the same least-likely classes again from the clean images; the others take the goals as given.
            AttackResult r = attack.run(model, x, goal);
            float[] adv = options.writeImages() ? r.adversarial().toArray() : null;
            int per = b.c() * b.h() * b.w();
            for (int i = 0; i < b.n(); i++) {
                int id = index + i;
                if (id < start) continue;
                if (adv != null) {
                    ImageCodec.writePng(folder.file(String.format("adv_%06d.png", id)), ImageCodec.fromChw(adv, i * per, b.c(), b.h(), b.w()));
                }
                out.add(new Row(id, b.labels()[i], spec.targeted() ? goal[i] : -1, clean[i], r.predicted()[i], r.success()[i],
                        r.l2()[i], r.linf()[i], r.confidence()[i]));
            }
        }
        return out;
    }

    /**
     * The rows of an earlier run's results.csv, checked: the header, the field count, the numbers,
     * and that the indices run 0, 1, 2, … A last line cut short by a kill (no line end) is dropped
     * from the file; any other bad row is an error naming the file and line.
     */
    static List<Row> readResults(Path csv) throws IOException {
        Csv.Table t = Csv.readAppended(csv);
        if (t == null) return List.of();
        if (!t.header().equals(HEADER)) {
            throw new IllegalArgumentException(csv + " line 1: not the results of this command (header " + String.join(",", t.header())
                    + ", expected " + String.join(",", HEADER) + ")");
        }
        List<Row> rows = new ArrayList<>();
        for (Csv.Row r : t.rows()) {
            int index = r.integer("index");
            if (index != rows.size()) throw r.error("index " + index + " out of order: expected " + rows.size());
            String tg = r.get("target").strip(), success = r.get("success").strip();
            if (!success.equals("true") && !success.equals("false")) throw r.error("success '" + success + "' is neither true nor false");
            rows.add(new Row(index, r.integer("label"), tg.isEmpty() ? -1 : r.integer("target"), r.integer("clean_prediction"),
                    r.integer("adversarial_prediction"), success.equals("true"), (float) r.decimal("l2"), (float) r.decimal("linf"),
                    (float) r.decimal("confidence")));
        }
        return rows;
    }

    /** Running counts for the summary. */
    private static final class Tally {
        int images, cleanCorrect, succeeded, raw;
        double l2, linf;

        void add(Row r) {
            images++;
            if (r.success()) raw++;
            if (r.cleanCorrect()) {
                cleanCorrect++;
                if (r.success()) succeeded++;
            }
            l2 += r.l2();
            linf += r.linf();
        }

        Summary summary(String attack, String dataset) {
            return new Summary(attack, dataset, images, cleanCorrect, succeeded, images - cleanCorrect, raw,
                    images == 0 ? Double.NaN : l2 / images, images == 0 ? Double.NaN : linf / images);
        }
    }
}
