package dev.advinterp.experiments.cli;

import dev.advinterp.experiments.data.broden.BrodenDataset;
import dev.advinterp.experiments.data.broden.BrodenImages;
import dev.advinterp.experiments.metrics.dissection.Table2Row;
import dev.advinterp.experiments.run.DissectionRun;
import dev.advinterp.experiments.run.RunFolder;
import dev.advinterp.nn.models.ImageModel;
import dev.advinterp.nn.models.ModelFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code advinterp dissect}: parses the options and runs {@link DissectionRun}. */
@Command(name = "dissect", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Network dissection (Bau et al. 2017, as NetDissect does it) of a layer on the images of a Broden folder and",
                "on their least-likely-class adversarial versions (the paper's Table 2). Writes into --out: tally_real.csv and",
                "tally_adversarial.csv (NetDissect's layout), table2.csv, dissection.json, dissection.html with html/ strips of",
                "each unit's top images and mask. Three passes over the images; --resume continues an interrupted run."})
final class DissectCommand implements Callable<Integer> {

    @Mixin
    ModelOption model;

    @Option(names = "--broden", required = true, description = "A Broden folder (NetDissect's broden1_224, or one written by 'advinterp data scenes').")
    Path broden;

    @Option(names = "--split", description = "Only the images of this split (default: all, as NetDissect).")
    String split;

    @Option(names = "--out", required = true, description = "Output folder.")
    Path out;

    @Option(names = "--layer", description = "The layer to dissect (default: the model's last convolutional layer).")
    String layer;

    @Option(names = "--adversarial", description = "illc (the paper's: the iterative least-likely class attack) or none (default: ${DEFAULT-VALUE}).")
    String adversarial = "illc";

    @Option(names = "--eps", description = "ε of the attack in pixel units of 1/255 (default: ${DEFAULT-VALUE}).")
    float eps = DissectionRun.Settings.defaults().eps();

    @Option(names = "--iou", description = "IoU at which a unit is aligned with its best concept (default: ${DEFAULT-VALUE}).")
    double iou = DissectionRun.Settings.defaults().iou();

    @Option(names = "--quantile", description = "Fraction of each unit's activations above its threshold (default: ${DEFAULT-VALUE}).")
    double quantile = DissectionRun.Settings.defaults().quantile();

    @Option(names = "--top", description = "Top images per unit on the HTML page (default: ${DEFAULT-VALUE}).")
    int top = DissectionRun.Settings.defaults().top();

    @Option(names = "--exact-budget-mb", description = "Memory for exact thresholds; beyond it a streaming sketch (default: ${DEFAULT-VALUE}).")
    long budgetMb = DissectionRun.Settings.defaults().budgetValues() * Float.BYTES >> 20;

    @Option(names = "--batch", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch = 32;

    @Option(names = "--limit", description = "Use only the first N images (0: all).")
    int limit;

    @Mixin
    ResumeOptions run;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws IOException {
        device.apply();
        var settings = new DissectionRun.Settings(layer, adversarial, eps, iou, quantile, batch, top, (budgetMb << 20) / Float.BYTES);
        try (ImageModel m = model.load()) {
            BrodenImages images = BrodenDataset.open(broden).images(split);
            if (limit > 0 && limit < images.size()) images = images.first(limit);
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("model", ModelFiles.fingerprint(m));
            json.put("broden", broden.toAbsolutePath().normalize().toString());
            json.put("split", split == null ? "all" : split);
            json.put("limit", limit);
            json.putAll(settings.json(m));
            try (RunFolder folder = run.open(out, "dissect", json, DissectionRun.OUTPUTS)) {
                DissectionRun.Result r = DissectionRun.run(m, images, settings, folder, model.name(), System.out);
                print(r.real().table());
                if (r.adversarial() != null) print(r.adversarial().table());
                System.out.println("wrote " + folder.file(DissectionRun.TABLE) + ", " + folder.file(DissectionRun.TALLY_REAL) + " and "
                        + folder.file(DissectionRun.HTML));
            }
        }
        return 0;
    }

    private static void print(Table2Row t) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-12s %d of %d units aligned:", t.set(), t.totalAligned(), t.units()));
        for (int c = 0; c < t.categories().size(); c++) sb.append(String.format(Locale.ROOT, " %s %.1f%%", t.categories().get(c), t.percent(c)));
        System.out.println(sb);
    }
}
