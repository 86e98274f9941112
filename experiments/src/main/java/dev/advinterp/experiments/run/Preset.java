package dev.advinterp.experiments.run;

import dev.advinterp.experiments.data.scenes.Difficulty;
import dev.advinterp.experiments.data.scenes.ScenesOptions;
import dev.advinterp.experiments.metrics.consistency.ActivationRule;
import dev.advinterp.nn.models.Architecture;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The scale of a {@link ReproduceRun} on the generated scenes: the data, how each network is
 * trained, and how many images each measurement sees. Every choice that departs from the paper's
 * setup (ImageNet and Broden at 224 px, full-width networks) is here, and the report prints it.
 * <ul>
 *   <li>{@code quick}: a smoke run of a few minutes; its models learn little, so its numbers are a
 *       check of the plumbing, not a result;</li>
 *   <li>{@code default}: the whole study in about a quarter of an hour on two CPU cores, every model above
 *       30% clean validation accuracy (three times chance) on 32 px scenes of the easy setting;</li>
 *   <li>{@code paper}: full-width networks on 224 px scenes with the paper's VGG-16 (no batch
 *       normalisation), for a GPU.</li>
 * </ul>
 * VGG-16 is trained with batch normalisation (torchvision's vgg16_bn) below the paper preset: at a
 * quarter of its width and a few epochs, VGG-16 without it stays at chance on these scenes.
 *
 * @param advEpochs       epochs of the consistent-loss models, fine-tuned from the normal ones
 * @param advLr           their learning rate (cosine-annealed, no warm-up)
 * @param evalImages      the validation images of Tables 1 and 3 (0: all of them)
 * @param activation      which images activate a unit (Eq. 1): the paper's 1% of 50,000 ImageNet images
 *                        is 500 images, but 1% of a few hundred scenes is too few for the
 *                        10-image minimum, so the smaller presets take a larger share
 * @param dissectImages   the first validation images that are dissected (Table 2)
 * @param mapsImages      the first validation images searched for Figures 3–4's top images
 * @param mapsIterations  targeted-l2's Adam steps per round of its λ search (the paper: 100)
 */
public record Preset(String name, ScenesOptions scenes, List<Training> models, int batch, int advEpochs, float advLr, int evalImages,
                     ActivationRule.Quantile activation, int dissectImages, float dissectEps, int mapsImages, int mapsIterations, int mapsUnits, int mapsTop) {
    public static final List<String> NAMES = List.of("quick", "default", "paper");
    public static final String SCHEDULE = "warmup:1:cosine";

    /** How one architecture is trained normally. */
    public record Training(Architecture arch, float width, int epochs, float lr) {
        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("arch", arch.id());
            m.put("width", width);
            m.put("epochs", epochs);
            m.put("lr", lr);
            return m;
        }
    }

    public static Preset of(String name) {
        return switch (name) {
            case "quick" -> new Preset("quick", new ScenesOptions(600, 32, 1, 0.2, Difficulty.EASY),
                    List.of(new Training(Architecture.ALEXNET, 0.25f, 2, 0.05f), new Training(Architecture.VGG16_BN, 0.125f, 2, 0.03f),
                            new Training(Architecture.RESNET18, 0.125f, 2, 0.05f)),
                    32, 1, 0.01f, 0, new ActivationRule.Quantile(0.1), 48, 8f, 16, 10, 2, 3);
            case "default" -> new Preset("default", new ScenesOptions(3000, 32, 1, 0.2, Difficulty.EASY),
                    List.of(new Training(Architecture.ALEXNET, 0.5f, 10, 0.05f), new Training(Architecture.VGG16_BN, 0.25f, 10, 0.03f),
                            new Training(Architecture.RESNET18, 0.25f, 8, 0.05f)),
                    32, 2, 0.01f, 0, new ActivationRule.Quantile(0.05), 256, 8f, 64, 20, 4, 4);
            case "paper" -> new Preset("paper", new ScenesOptions(20000, 224, 1, 0.2, Difficulty.STANDARD),
                    List.of(new Training(Architecture.ALEXNET, 1f, 30, 0.01f), new Training(Architecture.VGG16, 1f, 30, 0.01f),
                            new Training(Architecture.RESNET18, 1f, 30, 0.1f)),
                    64, 5, 0.001f, 0, ActivationRule.DEFAULT_QUANTILE, 2000, 8f, 256, 100, 4, 4);
            default -> throw new IllegalArgumentException("--preset must be one of " + String.join(", ", NAMES) + ", got '" + name + "'");
        };
    }

    /** What a run records in its settings.json: everything that decides the results. */
    public Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("preset", name);
        m.put("images", scenes.images());
        m.put("size", scenes.size());
        m.put("difficulty", scenes.difficulty().id());
        m.put("data_seed", scenes.seed());
        m.put("models", models.stream().map(Training::json).toList());
        m.put("batch", batch);
        m.put("schedule", SCHEDULE);
        m.put("adv_epochs", advEpochs);
        m.put("adv_lr", advLr);
        m.put("eval_images", evalImages);
        m.put("activation", activation.id());
        m.put("dissect_images", dissectImages);
        m.put("dissect_eps", dissectEps);
        m.put("maps_images", mapsImages);
        m.put("maps_iterations", mapsIterations);
        m.put("maps_units", mapsUnits);
        m.put("maps_top", mapsTop);
        return m;
    }
}
