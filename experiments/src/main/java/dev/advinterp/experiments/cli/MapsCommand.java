package dev.advinterp.experiments.cli;

import dev.advinterp.experiments.attacks.AttackSpec;
import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.experiments.figures.Occlusion;
import dev.advinterp.experiments.run.MapsRun;
import dev.advinterp.experiments.run.RunFolder;
import dev.advinterp.nn.models.ImageModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code advinterp maps}: parses the options and runs {@link MapsRun}. */
@Command(name = "maps", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The paper's Figures 3-4: for chosen units, the top-activating real and adversarial images (the targeted L2",
                "attack of Eq. 4 by default), each with its discrepancy map (Zhou et al. 2015: 11x11 occluding patches at stride 3).",
                "Writes into --out: unit_<n>.png per unit and maps.json. --limit bounds the images searched (each is attacked)."})
final class MapsCommand implements Callable<Integer> {

    @Mixin
    ModelOption model;

    @Mixin
    EvaluationData data;

    @Option(names = "--out", required = true, description = "Output folder.")
    Path out;

    @Option(names = "--units", split = ",", description = "Units to draw, numbered from 0 (default: chosen: see --dissection).")
    List<Integer> units;

    @Option(names = "--count", description = "Units to choose when --units is not given (default: ${DEFAULT-VALUE}).")
    int count = MapsRun.Settings.defaults().count();

    @Option(names = "--dissection", description = "A folder of 'advinterp dissect' of this model: chooses the units (highest IoU, and "
            + "those whose label changes most under attack) and names their concepts.")
    Path dissection;

    @Option(names = "--layer", description = "The layer (default: the model's last convolutional layer).")
    String layer;

    @Option(names = "--top", description = "Images per row (default: ${DEFAULT-VALUE}).")
    int top = MapsRun.Settings.defaults().top();

    @Option(names = "--attack", description = "The adversarial images: targeted-l2 (the paper's Figure 3), illc, fgsm, ... (default: ${DEFAULT-VALUE}).")
    String attack = "targeted-l2";

    @Option(names = "--eps", description = "ε of an L∞ attack in pixel units (default: ${DEFAULT-VALUE}).")
    float eps = 8f;

    @Mixin
    ResumeOptions run;

    @Mixin
    DeviceOption device;

    @Override
    public Integer call() throws IOException {
        device.apply();
        var settings = new MapsRun.Settings(layer, units, count, top, new AttackSpec(attack, eps, null, AttackSpec.defaultSteps(attack), "random", 1), data.batch, Occlusion.paper());
        if (data.limit == 0) data.limit = 128;
        try (ImageModel m = model.load()) {
            Dataset ds = data.open(m, model.file);
            Map<String, Object> json = data.settings(m);
            json.put("layer", layer == null ? m.phiLayer() : layer);
            json.put("units", units == null ? "chosen" : Arrays.toString(units.toArray()));
            json.put("top", top);
            json.putAll(settings.attack().settings());
            try (RunFolder folder = run.open(out, "maps", json, MapsRun.OUTPUTS)) {
                for (MapsRun.UnitMaps u : MapsRun.run(m, ds, settings, dissection, folder, model.name(), System.out)) {
                    System.out.println("unit " + u.unit() + (u.concept().isEmpty() ? "" : " (" + u.concept() + ")") + ": " + u.file());
                }
            }
        }
        return 0;
    }
}
