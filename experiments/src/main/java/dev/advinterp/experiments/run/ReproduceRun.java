package dev.advinterp.experiments.run;

import dev.advinterp.engine.EngineConfig;
import dev.advinterp.engine.io.AtomicFile;
import dev.advinterp.experiments.attacks.AttackSpec;
import dev.advinterp.experiments.data.DataSources;
import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.experiments.data.broden.BrodenDataset;
import dev.advinterp.experiments.data.broden.BrodenImages;
import dev.advinterp.experiments.data.scenes.ScenesGenerator;
import dev.advinterp.experiments.data.scenes.ScenesSummary;
import dev.advinterp.experiments.figures.Occlusion;
import dev.advinterp.experiments.report.StudyReport;
import dev.advinterp.experiments.training.ConsistentLoss;
import dev.advinterp.nn.io.Json;
import dev.advinterp.nn.models.Architecture;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.models.Layout;
import dev.advinterp.nn.models.ModelConfig;
import dev.advinterp.nn.models.ModelFiles;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The paper's whole study in one run ({@code advinterp reproduce}): generate the scenes, train the
 * three networks normally and with the consistent loss, measure all six (Tables 1–3, Figure 5),
 * draw Figures 3–4 for VGG-16 and VGG-16-Adv, and write the report. Into one folder:
 * <pre>
 *   data/scenes/                  the generated dataset (Broden layout)
 *   models/NAME/                  a training run per model (checkpoints, model.safetensors, metrics)
 *   evaluation/NAME/consistency/  Tables 1 and 3, Figure 5 (a {@link ConsistencyRun})
 *   evaluation/NAME/dissection/   Table 2 (a {@link DissectionRun})
 *   evaluation/NAME/maps/         Figures 3–4 (a {@link MapsRun}; VGG-16 and VGG-16-Adv)
 *   tables/ figures/              the report's tables (CSV, JSON) and figures
 *   report.md report.html         the report ({@link StudyReport})
 *   stages.json reproduce.log     the finished stages with their times; everything printed
 * </pre>
 * Every stage is a run of its own in its own folder, so an interrupted stage continues from its
 * checkpoints; a finished stage (recorded in {@code stages.json}) is never redone. The folder's
 * {@code settings.json} is the preset: a folder holding another study is refused unless
 * {@code force}, which deletes it and starts over.
 *
 * <p>The full-scale study ({@link External}: ImageNet, Broden, torchvision's weights) replaces
 * the data stage and the normal models' training by an import of the weights, measures on
 * ImageNet's validation images and Broden, and trains the -Adv models only on a GPU.
 */
public final class ReproduceRun {
    public static final String STAGES = "stages.json", LOG = "reproduce.log", DATA = "data", MODELS = "models", EVALUATION = "evaluation";
    public static final List<String> OUTPUTS = List.of(DATA, MODELS, EVALUATION, STAGES, LOG, StudyReport.MARKDOWN, StudyReport.HTML,
            StudyReport.TABLES, StudyReport.FIGURES);

    /** One of the six models: an architecture, trained normally or with the consistent loss. */
    public record Member(Preset.Training training, boolean adversarial) {
        /** Its folder name: alexnet, alexnet-adv, ... */
        public String id() {
            String base = switch (training.arch()) {
                case VGG16, VGG16_BN -> "vgg16";
                default -> training.arch().id();
            };
            return adversarial ? base + "-adv" : base;
        }

        /** As the paper names it: AlexNet, VGG-16-Adv, ... */
        public String title() {
            String base = switch (training.arch()) {
                case ALEXNET -> "AlexNet";
                case VGG16, VGG16_BN -> "VGG-16";
                case RESNET18 -> "ResNet-18";
            };
            return adversarial ? base + "-Adv" : base;
        }
    }

    /**
     * The full-scale study's inputs: ImageNet ({@code DIR/train/<wnid>/}, {@code DIR/val/<wnid>/}),
     * a Broden folder (NetDissect's broden1_224) and a folder of torchvision weights
     * ({@code alexnet*.pth}, {@code vgg16-*.pth}, {@code resnet18*.pth}, or safetensors). The normal
     * models are those weights, imported; the -Adv models are fine-tuned from them on ImageNet
     * only when {@code trainAdversarial} (a GPU: on two CPU cores an ImageNet epoch takes days).
     */
    public record External(Path imagenet, Path broden, Path weights, boolean trainAdversarial) {
        public External {
            for (Path p : List.of(imagenet, broden, weights)) {
                if (!Files.isDirectory(p)) throw new IllegalArgumentException(p + " is not a folder (--imagenet, --broden and --weights each name one)");
            }
            if (!Files.isDirectory(imagenet.resolve("val"))) {
                throw new IllegalArgumentException("--imagenet " + imagenet + " has no val/ folder (the layout is DIR/train/<wnid>/ and DIR/val/<wnid>/)");
            }
            if (!Files.exists(broden.resolve("index.csv"))) throw new IllegalArgumentException("--broden " + broden + " has no index.csv (not a Broden folder)");
        }

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("imagenet", imagenet.toAbsolutePath().normalize().toString());
            m.put("broden", broden.toAbsolutePath().normalize().toString());
            m.put("weights", weights.toAbsolutePath().normalize().toString());
            m.put("train_adversarial", trainAdversarial);
            return m;
        }

        /** The weight file of {@code arch} in the weights folder: the one file whose name starts with its id (vgg16 never takes vgg16_bn's). */
        Path weightsOf(Architecture arch) throws IOException {
            List<Path> found = new ArrayList<>();
            try (var files = Files.list(weights)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    String n = f.getFileName().toString().toLowerCase(Locale.ROOT);
                    boolean weightFile = n.endsWith(".pth") || n.endsWith(".pt") || n.endsWith(".safetensors");
                    boolean named = n.startsWith(arch.id()) && !(arch == Architecture.VGG16 && n.startsWith(Architecture.VGG16_BN.id()));
                    if (weightFile && named && Files.isRegularFile(f)) found.add(f);
                }
            }
            if (found.size() != 1) {
                throw new IllegalArgumentException("--weights " + weights + (found.isEmpty() ? " holds no " : " holds more than one ") + arch.id()
                        + "*.pth or " + arch.id() + "*.safetensors" + (found.isEmpty() ? " (torchvision's file, e.g. " + torchvisionName(arch) + ")" : ": " + found));
            }
            return found.getFirst();
        }

        private static String torchvisionName(Architecture arch) {
            return switch (arch) {
                case ALEXNET -> "alexnet-owt-7be5be79.pth";
                case VGG16 -> "vgg16-397923af.pth";
                case VGG16_BN -> "vgg16_bn-6c64b313.pth";
                case RESNET18 -> "resnet18-f37072fd.pth";
            };
        }
    }

    /** A step of the study, recorded in stages.json when it finishes. */
    private record Stage(String id, String title, Body body) {
    }

    @FunctionalInterface
    private interface Body {
        void run(PrintStream out) throws IOException;
    }

    /** Tables 1 and 3 as the study measures them (the paper's FGSM ε = 1, σ = 1, at least 10 activating images). */
    public static ConsistencyRun.Settings consistencySettings(Preset preset) {
        return new ConsistencyRun.Settings(null, AttackSpec.fgsm(1f), preset.activation(), 1.0, 10, preset.batch());
    }

    /** Table 2 as the study measures it: NetDissect's defaults, ILLC at the preset's ε. */
    public static DissectionRun.Settings dissectionSettings(Preset preset) {
        DissectionRun.Settings d = DissectionRun.Settings.defaults();
        return new DissectionRun.Settings(null, "illc", preset.dissectEps(), d.iou(), d.quantile(), preset.batch(), d.top(), d.budgetValues());
    }

    /** The consistent loss of the -Adv models (Eq. 6). */
    public static final ConsistentLoss.Options CONSISTENT_LOSS = ConsistentLoss.Options.defaults();

    /** The architectures of the full-scale study, as the paper has them (VGG-16 without batch normalisation). */
    static final List<Architecture> PAPER_ARCHS = List.of(Architecture.ALEXNET, Architecture.VGG16, Architecture.RESNET18);

    private final Preset preset;
    private final External external;
    private final Path dir;
    private final String device;

    private ReproduceRun(Preset preset, External external, Path dir, String device) {
        this.preset = preset;
        this.external = external;
        this.dir = dir;
        this.device = device;
    }

    /**
     * The models in the paper's order: each architecture, then its -Adv version (left out of a
     * full-scale study that trains none). In a full-scale study the normal models are the imported
     * weights (full width, no epochs).
     */
    public static List<Member> members(Preset preset, External external) {
        List<Member> m = new ArrayList<>();
        List<Preset.Training> trainings = external == null ? preset.models()
                : PAPER_ARCHS.stream().map(a -> new Preset.Training(a, 1f, 0, 0f)).toList();
        for (Preset.Training t : trainings) {
            m.add(new Member(t, false));
            if (external == null || external.trainAdversarial()) m.add(new Member(t, true));
        }
        return m;
    }

    /**
     * Runs (or continues) the study in {@code out}.
     *
     * @param device  the compute device in words, for the report
     * @param console where progress goes (also appended to the folder's log)
     * @return the report's HTML file
     */
    public static Path run(Preset preset, Path out, boolean force, String device, PrintStream console) throws IOException {
        return run(preset, null, out, force, device, console);
    }

    /** {@link #run(Preset, Path, boolean, String, PrintStream)} on ImageNet, Broden and torchvision weights ({@code external} non-null). */
    public static Path run(Preset preset, External external, Path out, boolean force, String device, PrintStream console) throws IOException {
        Map<String, Object> settings = preset.json();
        if (external != null) settings.putAll(external.json());
        try (RunFolder folder = RunFolder.open(out, "reproduce", settings, OUTPUTS, true, force);
             OutputStream logFile = Files.newOutputStream(folder.file(LOG), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
             PrintStream log = new PrintStream(new Tee(console, logFile), true, StandardCharsets.UTF_8)) {
            log.printf("reproduce: preset %s%s into %s (%s), %s, started %s%n", preset.name(), external == null ? "" : " on ImageNet, Broden "
                    + "and torchvision weights", folder.dir(), folder.resumed() ? "continuing" : "new", device, Instant.now());
            if (external != null && !external.trainAdversarial()) {
                log.println("reproduce: the -Adv models are not trained on this device (fine-tuning on ImageNet needs a GPU); the report shows the normal models");
            }
            return new ReproduceRun(preset, external, folder.dir(), device).stages(log);
        }
    }

    private Path stages(PrintStream out) throws IOException {
        List<Stage> stages = new ArrayList<>();
        List<Member> members = members(preset, external);
        if (external == null) {
            stages.add(new Stage("data", "generate the scenes (" + preset.scenes().images() + " images, " + preset.scenes().size() + " px, "
                    + preset.scenes().difficulty().id() + ")", this::data));
        }
        for (Member m : members) {
            if (external != null && !m.adversarial()) {
                stages.add(new Stage("import/" + m.id(), "import " + m.title() + "'s torchvision weights", o -> importWeights(m, o)));
            } else {
                stages.add(new Stage("train/" + m.id(), "train " + m.title() + (m.adversarial() ? " (consistent loss, from " + new Member(m.training(), false).title() + ")" : ""),
                        o -> train(m, o)));
            }
        }
        for (Member m : members) stages.add(new Stage("consistency/" + m.id(), "Tables 1 and 3: " + m.title(), o -> consistency(m, o)));
        for (Member m : members) stages.add(new Stage("dissection/" + m.id(), "Table 2: dissect " + m.title(), o -> dissection(m, o)));
        for (Member m : members) {
            if (m.training().arch() == Architecture.VGG16 || m.training().arch() == Architecture.VGG16_BN) {
                stages.add(new Stage("maps/" + m.id(), "Figures 3–4: " + m.title(), o -> maps(m, o)));
            }
        }
        stages.add(new Stage("report", "write the report", o -> StudyReport.write(dir, preset, external, members, device, readStages())));

        Map<String, Object> finished = readStages();
        long t0 = System.nanoTime();
        for (int i = 0; i < stages.size(); i++) {
            Stage s = stages.get(i);
            String head = String.format(Locale.ROOT, "[%d/%d] %s", i + 1, stages.size(), s.title());
            if (finished.containsKey(s.id()) && !s.id().equals("report")) {
                out.println(head + ": done before (" + StudyReport.duration(seconds(finished.get(s.id()))) + "), kept");
                continue;
            }
            out.println(head + " ...");
            long t = System.nanoTime();
            s.body().run(out);
            double secs = (System.nanoTime() - t) / 1e9;
            recordStage(s, secs);
            finished = readStages();
            out.println(head + ": done in " + StudyReport.duration(secs));
        }
        out.printf("reproduce: finished in %s; the report is %s%n", StudyReport.duration((System.nanoTime() - t0) / 1e9),
                dir.resolve(StudyReport.HTML));
        return dir.resolve(StudyReport.HTML);
    }

    // ---- the stages

    Path scenes() {
        return dir.resolve(DATA).resolve("scenes");
    }

    private void data(PrintStream out) {
        if (Files.exists(scenes().resolve("index.csv"))) {
            out.println("  the scenes are already there: " + scenes());
            return;
        }
        ScenesSummary s = new ScenesGenerator(preset.scenes()).generate(scenes(), true, done -> { });
        out.printf(Locale.ROOT, "  wrote %s: %d train + %d val images in %.1f s%n", s.directory(), s.train(), s.val(), s.seconds());
    }

    /** The classification images: the scenes, or ImageNet in the full-scale study, brought to {@code size} px (the model's input). */
    private Dataset split(boolean train, int size) {
        return external == null ? DataSources.open("scenes:" + scenes(), train) : DataSources.open("imagenet:" + external.imagenet(), train, size);
    }

    /** The images that are dissected: the scenes' validation split, or every image of the Broden folder. */
    private BrodenImages dissectionImages() {
        return external == null ? BrodenDataset.open(scenes()).images("val") : BrodenDataset.open(external.broden()).images(null);
    }

    /** A full-scale study's normal model: torchvision's weights, checked against the architecture and saved with their configuration. */
    private void importWeights(Member m, PrintStream out) throws IOException {
        Path from = external.weightsOf(m.training().arch()), to = modelFile(dir, m);
        Files.createDirectories(to.getParent());
        try (ImageModel model = ModelFiles.load(from, new ModelFiles.Bare(m.training().arch(), null, 224, Layout.forSize(224)))) {
            ModelFiles.save(to, model); // atomic, as every safetensors write
            out.println("  " + from + " -> " + to + " (" + model.config() + ")");
        }
    }

    public static Path modelFile(Path dir, Member m) {
        return dir.resolve(MODELS).resolve(m.id()).resolve(TrainRun.MODEL);
    }

    /**
     * How {@code m} is trained. A consistent-loss model is fine-tuned from {@code from}, its normal
     * model, and keeps that model's layout and width (in the full-scale study: torchvision's).
     */
    private TrainRun.Settings trainSettings(Member m, ModelConfig from) {
        Preset.Training t = m.training();
        return m.adversarial()
                ? new TrainRun.Settings(t.arch(), from.layout(), from.width(), preset.advEpochs(), preset.batch(), preset.advLr(), 0.9f, 5e-4f, false,
                "cosine", 2, true, CONSISTENT_LOSS)
                : new TrainRun.Settings(t.arch(), null, t.width(), t.epochs(), preset.batch(), t.lr(), 0.9f, 5e-4f, false, Preset.SCHEDULE, 1, true, null);
    }

    private void train(Member m, PrintStream out) throws IOException {
        Path init = m.adversarial() ? modelFile(dir, new Member(m.training(), false)) : null;
        ModelConfig from = init == null ? null : ModelFiles.config(init);
        TrainRun.Settings s = trainSettings(m, from);
        int size = from == null ? 224 : from.inputSize();
        Map<String, Object> json = new LinkedHashMap<>(s.json());
        json.put("data", external == null ? DATA + "/scenes" : "imagenet:" + external.imagenet().toAbsolutePath().normalize());
        if (init != null) json.put("init", MODELS + "/" + new Member(m.training(), false).id());
        try (RunFolder folder = RunFolder.open(dir.resolve(MODELS).resolve(m.id()), "train", json, TrainRun.OUTPUTS, true, false)) {
            TrainRun.run(s, split(true, size), split(false, size), init, folder, out);
        }
    }

    private ImageModel load(Member m) throws IOException {
        return ModelFiles.load(modelFile(dir, m));
    }

    static Path evaluation(Path dir, Member m, String what) {
        return dir.resolve(EVALUATION).resolve(m.id()).resolve(what);
    }

    private void consistency(Member m, PrintStream out) throws IOException {
        var s = consistencySettings(preset);
        try (ImageModel model = load(m)) {
            Dataset data = DataSources.limit(split(false, model.config().inputSize()), preset.evalImages());
            DataSources.requireFits(data, model.config(), modelFile(dir, m));
            Map<String, Object> json = s.json(model);
            json.put("images", data.size());
            try (RunFolder folder = RunFolder.open(evaluation(dir, m, "consistency"), "consistency", json, ConsistencyRun.OUTPUTS, true, false)) {
                ConsistencyRun.Result r = ConsistencyRun.run(model, data, s, folder, EngineConfig.current().cache(), m.title(), out);
                out.println("  " + r.summary().describe());
                out.println("  " + r.accuracy().describe());
            }
        }
    }

    private void dissection(Member m, PrintStream out) throws IOException {
        var s = dissectionSettings(preset);
        try (ImageModel model = load(m)) {
            BrodenImages images = dissectionImages();
            if (preset.dissectImages() > 0 && preset.dissectImages() < images.size()) images = images.first(preset.dissectImages());
            Map<String, Object> json = s.json(model);
            json.put("images", images.size());
            try (RunFolder folder = RunFolder.open(evaluation(dir, m, "dissection"), "dissect", json, DissectionRun.OUTPUTS, true, false)) {
                DissectionRun.Result r = DissectionRun.run(model, images, s, folder, m.title(), out);
                out.printf(Locale.ROOT, "  aligned units: %d of %d on real images, %d on adversarial images%n", r.real().table().totalAligned(),
                        r.real().table().units(), r.adversarial().table().totalAligned());
            }
        }
    }

    private void maps(Member m, PrintStream out) throws IOException {
        var s = new MapsRun.Settings(null, null, preset.mapsUnits(), preset.mapsTop(), AttackSpec.targetedL2(preset.mapsIterations()),
                Math.min(16, preset.batch()), Occlusion.paper());
        try (ImageModel model = load(m)) {
            Dataset data = DataSources.limit(split(false, model.config().inputSize()), preset.mapsImages());
            DataSources.requireFits(data, model.config(), modelFile(dir, m));
            Map<String, Object> json = new LinkedHashMap<>(s.attack().settings());
            json.put("images", data.size());
            json.put("units", s.count());
            json.put("top", s.top());
            try (RunFolder folder = RunFolder.open(evaluation(dir, m, "maps"), "maps", json, MapsRun.OUTPUTS, true, false)) {
                for (MapsRun.UnitMaps u : MapsRun.run(model, data, s, evaluation(dir, m, "dissection"), folder, m.title(), out)) {
                    out.println("  unit " + u.unit() + (u.concept().isEmpty() ? "" : " (" + u.concept() + ")") + ": " + u.file());
                }
            }
        }
    }

    // ---- stages.json

    private Map<String, Object> readStages() throws IOException {
        Path f = dir.resolve(STAGES);
        if (!Files.exists(f)) return new LinkedHashMap<>();
        Map<String, Object> all = Json.readObject(f);
        Map<String, Object> out = new LinkedHashMap<>();
        if (all.get("stages") instanceof List<?> l) {
            for (Object o : l) {
                if (o instanceof Map<?, ?> m && m.get("id") instanceof String id) out.put(id, m);
            }
        }
        return out;
    }

    private void recordStage(Stage s, double secs) throws IOException {
        List<Object> rows = new ArrayList<>(readStages().values());
        rows.removeIf(o -> o instanceof Map<?, ?> m && s.id().equals(m.get("id")));
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("id", s.id());
        row.put("title", s.title());
        row.put("seconds", Math.round(secs * 10) / 10.0);
        row.put("finished", Instant.now().toString());
        rows.add(row);
        AtomicFile.writeString(dir.resolve(STAGES), Json.pretty(Map.of("stages", rows)));
    }

    static double seconds(Object stageRow) {
        return stageRow instanceof Map<?, ?> m && m.get("seconds") instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    /** Writes to the console and the log file alike. */
    private static final class Tee extends OutputStream {
        private final OutputStream a, b;

        Tee(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int x) throws IOException {
            a.write(x);
            b.write(x);
        }

        @Override
        public void write(byte[] bytes, int off, int len) throws IOException {
            a.write(bytes, off, len);
            b.write(bytes, off, len);
        }

        @Override
        public void flush() throws IOException {
            a.flush();
            b.flush();
        }
    }
}
