package dev.advinterp.experiments.activations;

import dev.advinterp.engine.io.AtomicFile;
import dev.advinterp.experiments.io.Csv;
import dev.advinterp.nn.io.Json;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one pass over an image set recorded, kept on disk as it is made so that a long pass can be
 * stopped and continued, and so that nothing per image stays in memory while it runs:
 * <ul>
 *   <li>{@code images.csv}: per image, in dataset order, its label and the model's top-5 classes
 *       and probabilities on the clean image and on its adversarial version
 *       ({@code index,label,clean_top5,clean_probabilities,adversarial_top5,adversarial_probabilities},
 *       lists separated by {@code ;});</li>
 *   <li>when a layer is recorded, {@code real.f32} and {@code adversarial.f32}: each unit's
 *       per-image spatial maximum ({@link SpatialMax}), little-endian float32, row-major
 *       [image, unit], and {@code layer.json} (the layer and its unit count).</li>
 * </ul>
 * A batch is appended activations first, rows last, each flushed to disk; the rows are the
 * record of what is complete. Reopened, the recording drops a row cut short by a kill and any
 * activations beyond the complete rows, and continues after them.
 */
public final class Recording implements AutoCloseable {
    public static final String IMAGES = "images.csv", REAL = "real.f32", ADVERSARIAL = "adversarial.f32", LAYER = "layer.json";
    public static final List<String> HEADER = List.of("index", "label", "clean_top5", "clean_probabilities", "adversarial_top5",
            "adversarial_probabilities");

    /** One recorded image. */
    public record Image(int index, int label, Prediction clean, Prediction adversarial) {
        List<Object> fields() {
            return List.of(index, label, clean.classesField(), clean.probabilitiesField(), adversarial.classesField(),
                    adversarial.probabilitiesField());
        }
    }

    /** A whole recording in memory, for the metrics: row i of the activations is image i. */
    public record Loaded(List<Image> images, String layer, int units, float[] real, float[] adversarial) {
        public int size() {
            return images.size();
        }

        public int[] labels() {
            return images.stream().mapToInt(Image::label).toArray();
        }
    }

    private final Path dir;
    private final String layer;
    private final FileChannel rows, real, adv;
    private int done, units;

    private Recording(Path dir, String layer, FileChannel rows, FileChannel real, FileChannel adv, int done, int units) {
        this.dir = dir;
        this.layer = layer;
        this.rows = rows;
        this.real = real;
        this.adv = adv;
        this.done = done;
        this.units = units;
    }

    /**
     * Opens the recording in {@code dir} for appending, continuing what it holds.
     *
     * @param layer the layer whose activations are recorded, or null for predictions only
     */
    public static Recording open(Path dir, String layer) throws IOException {
        Files.createDirectories(dir);
        Path csv = dir.resolve(IMAGES);
        List<Image> have = read(dir, csv);
        if (have.isEmpty()) AtomicFile.writeString(csv, Csv.line(HEADER));
        int units = 0;
        if (layer != null && Files.exists(dir.resolve(LAYER))) {
            Map<String, Object> l = Json.readObject(dir.resolve(LAYER));
            if (!layer.equals(l.get("layer"))) {
                throw new IllegalArgumentException(dir.resolve(LAYER) + " records layer " + l.get("layer") + ", not " + layer);
            }
            units = ((Number) l.get("units")).intValue();
        }
        FileChannel realCh = null, advCh = null;
        if (layer != null) {
            realCh = FileChannel.open(dir.resolve(REAL), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            advCh = FileChannel.open(dir.resolve(ADVERSARIAL), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            long keep = (long) have.size() * units * Float.BYTES;
            for (FileChannel ch : new FileChannel[]{realCh, advCh}) {
                if (ch.size() < keep) {
                    throw new IllegalStateException(dir + ": the activation files hold fewer images than " + IMAGES + " (" + have.size()
                            + "); the recording is damaged, start it over");
                }
                ch.truncate(keep);
                ch.position(keep);
            }
        }
        FileChannel rowsCh = FileChannel.open(csv, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        return new Recording(dir, layer, rowsCh, realCh, advCh, have.size(), units);
    }

    /** Images recorded so far (the next batch starts at this dataset index). */
    public int done() {
        return done;
    }

    /**
     * Appends a batch: its images (indices continuing from {@link #done()}) and, when a layer is
     * recorded, their per-unit maxima ({@code images.size() × units} floats each).
     */
    public void append(List<Image> batch, float[] realMax, float[] advMax, int units) throws IOException {
        for (int i = 0; i < batch.size(); i++) {
            if (batch.get(i).index() != done + i) {
                throw new IllegalStateException("recording out of order: image " + batch.get(i).index() + " where " + (done + i) + " was due");
            }
        }
        if (layer != null) {
            if (this.units == 0) {
                this.units = units;
                Map<String, Object> l = new LinkedHashMap<>();
                l.put("layer", layer);
                l.put("units", units);
                AtomicFile.writeString(dir.resolve(LAYER), Json.pretty(l));
            } else if (units != this.units) {
                throw new IllegalStateException("layer " + layer + " gave " + units + " units, earlier batches " + this.units);
            }
            write(real, floats(realMax, batch.size() * units));
            write(adv, floats(advMax, batch.size() * units));
        }
        StringBuilder text = new StringBuilder();
        for (Image im : batch) text.append(Csv.line(im.fields()));
        write(rows, ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8)));
        done += batch.size();
    }

    private static ByteBuffer floats(float[] v, int expected) {
        if (v.length != expected) throw new IllegalArgumentException("expected " + expected + " activations, got " + v.length);
        ByteBuffer b = ByteBuffer.allocate(v.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b;
    }

    private static void write(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
        ch.force(false);
    }

    @Override
    public void close() throws IOException {
        try (rows; FileChannel r = real; FileChannel a = adv) {
            // closed in reverse order by try-with-resources
        }
    }

    /** Reads a finished (or partial) recording whole. */
    public static Loaded load(Path dir) throws IOException {
        List<Image> images = read(dir, dir.resolve(IMAGES));
        String layer = null;
        int units = 0;
        float[] r = null, a = null;
        if (Files.exists(dir.resolve(LAYER))) {
            Map<String, Object> l = Json.readObject(dir.resolve(LAYER));
            layer = String.valueOf(l.get("layer"));
            units = ((Number) l.get("units")).intValue();
            r = readFloats(dir.resolve(REAL), (long) images.size() * units);
            a = readFloats(dir.resolve(ADVERSARIAL), (long) images.size() * units);
        }
        return new Loaded(images, layer, units, r, a);
    }

    private static float[] readFloats(Path file, long count) throws IOException {
        if (count > Integer.MAX_VALUE - 8) throw new IllegalArgumentException(file + ": " + count + " activations do not fit in one array");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (ch.size() < count * Float.BYTES) {
                throw new IllegalStateException(file + " holds " + ch.size() / Float.BYTES + " activations, fewer than the " + count + " its rows need");
            }
            ByteBuffer b = ByteBuffer.allocate((int) (count * Float.BYTES)).order(ByteOrder.LITTLE_ENDIAN);
            while (b.hasRemaining() && ch.read(b) >= 0) {
                // read until full
            }
            b.flip();
            float[] out = new float[(int) count];
            b.asFloatBuffer().get(out);
            return out;
        }
    }

    /** The complete rows of images.csv, checked; a last line without its line end (a kill mid-write) is dropped from the file. */
    private static List<Image> read(Path dir, Path csv) throws IOException {
        Csv.Table t = Csv.readAppended(csv);
        if (t == null) return List.of();
        if (!t.header().equals(HEADER)) {
            throw new IllegalArgumentException(csv + " line 1: not a recording of this program (header " + String.join(",", t.header()) + ")");
        }
        List<Image> out = new ArrayList<>(t.rows().size());
        for (Csv.Row r : t.rows()) {
            int index = r.integer("index");
            if (index != out.size()) throw r.error("index " + index + " out of order: expected " + out.size());
            try {
                out.add(new Image(index, r.integer("label"), Prediction.parse(r.get("clean_top5"), r.get("clean_probabilities")),
                        Prediction.parse(r.get("adversarial_top5"), r.get("adversarial_probabilities"))));
            } catch (IllegalArgumentException e) {
                throw r.error("malformed prediction: " + e.getMessage());
            }
        }
        return out;
    }
}
