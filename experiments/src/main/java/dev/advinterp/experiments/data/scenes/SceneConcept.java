package dev.advinterp.experiments.data.scenes;

import java.util.ArrayList;
import java.util.List;

/**
 * The concept vocabulary of the generated scenes: every label, in the order of its global number
 * (ordinal + 1; 0 is "unlabelled", as in Broden), grouped by category in the column order of
 * {@code index.csv}. Colours carry the sRGB prototype they are painted from; the colour names are
 * Broden's eleven.
 */
public enum SceneConcept {
    RED("color", "red", 0xC82323), ORANGE("color", "orange", 0xEB8219), YELLOW("color", "yellow", 0xE6D72D),
    GREEN("color", "green", 0x2D9637), BLUE("color", "blue", 0x284BC8), PURPLE("color", "purple", 0x7D37A5),
    PINK("color", "pink", 0xEB8CB9), BROWN("color", "brown", 0x784B23), BLACK("color", "black", 0x191919),
    GREY("color", "grey", 0x808080), WHITE("color", "white", 0xEBEBEB),

    BOX("object", "box"), DISC("object", "disc"), TRIANGLE("object", "triangle"), CRESCENT("object", "crescent"),
    BAR("object", "bar"), SKY("object", "sky"), WATER("object", "water"), SAND("object", "sand"), TREE("object", "tree"),
    GRASS("object", "grass"), ROAD("object", "road"), WALL("object", "wall"), FLOOR("object", "floor"), SNOW("object", "snow"),

    METAL("material", "metal"), GLASS("material", "glass"), PLASTIC("material", "plastic"),

    WHEEL("part", "wheel"), WINDOW("part", "window"), EAR("part", "ear"), STEM("part", "stem"), CAP("part", "cap"),

    BEACH("scene", "beach"), FOREST("scene", "forest"), STREET("scene", "street"), KITCHEN("scene", "kitchen"),
    SNOWFIELD("scene", "snowfield"), MEADOW("scene", "meadow"),

    STRIPED("texture", "striped"), DOTTED("texture", "dotted"), CHEQUERED("texture", "chequered"),
    ZIGZAGGED("texture", "zigzagged"), SPECKLED("texture", "speckled");

    /** The categories in {@code index.csv} column order (NetDissect's). */
    public static final List<String> CATEGORIES = List.of("color", "object", "material", "part", "scene", "texture");
    /** The categories given as pixel masks; scene is a whole-image label. */
    static final List<String> MASK_CATEGORIES = List.of("color", "object", "material", "part", "texture");

    private final String category, label;
    private final int rgb;

    SceneConcept(String category, String label) {
        this(category, label, -1);
    }

    SceneConcept(String category, String label, int rgb) {
        this.category = category;
        this.label = label;
        this.rgb = rgb;
    }

    public String category() {
        return category;
    }

    /** The name written to label.csv. */
    public String label() {
        return label;
    }

    /** The global label number (label.csv, mask pixels, whole-image entries). */
    public int number() {
        return ordinal() + 1;
    }

    /** The sRGB prototype of a colour concept, {@code 0xRRGGBB}. */
    int rgb() {
        if (rgb < 0) throw new IllegalStateException(label + " is not a colour");
        return rgb;
    }

    public static List<SceneConcept> of(String category) {
        List<SceneConcept> out = new ArrayList<>();
        for (SceneConcept c : values()) if (c.category.equals(category)) out.add(c);
        return out;
    }

    static final SceneConcept[] COLOURS = of("color").toArray(SceneConcept[]::new);
    static final SceneConcept[] TEXTURES = of("texture").toArray(SceneConcept[]::new);
    static final SceneConcept[] MATERIALS = of("material").toArray(SceneConcept[]::new);
    static final SceneConcept[] SCENES = of("scene").toArray(SceneConcept[]::new);
}
