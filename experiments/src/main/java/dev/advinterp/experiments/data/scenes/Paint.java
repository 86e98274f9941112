package dev.advinterp.experiments.data.scenes;

/**
 * How a region is filled: its colour concept and jittered sRGB, optionally a texture drawn with a
 * second colour (both colours are labelled pixel by pixel), a material, and a linear shading across
 * the region. Glass is drawn translucent over what lies beneath; metal with strong shading.
 *
 * @param texture null for a plain fill
 * @param material null for background stuff, which has no material label
 * @param period the texture's repeat in pixels
 * @param cos direction of the texture (stripes run across it)
 * @param shade brightness change from one side of the region to the other, along (shadeCos, shadeSin)
 */
record Paint(SceneConcept colour, int rgb, SceneConcept texture, SceneConcept second, int secondRgb, double period,
             double cos, double sin, long speckleSeed, SceneConcept material, double shade, double shadeCos, double shadeSin) {

    static Paint plain(SceneConcept colour, int rgb) {
        return new Paint(colour, rgb, null, null, 0, 1, 1, 0, 0, null, 0, 0, 1);
    }

    Paint withMaterial(SceneConcept material, double shade, double shadeCos, double shadeSin) {
        return new Paint(colour, rgb, texture, second, secondRgb, period, cos, sin, speckleSeed, material, shade, shadeCos, shadeSin);
    }

    Paint withShade(double shade, double shadeCos, double shadeSin) {
        return withMaterial(material, shade, shadeCos, shadeSin);
    }

    Paint withTexture(SceneConcept texture, SceneConcept second, int secondRgb, double period, double cos, double sin, long speckleSeed) {
        return new Paint(colour, rgb, texture, second, secondRgb, period, cos, sin, speckleSeed, material, shade, shadeCos, shadeSin);
    }

    /** Whether the texture puts the second colour at (u, v), coordinates relative to the region's corner. */
    boolean secondAt(double u, double v, int px, int py) {
        if (texture == null) return false;
        double a = u * cos + v * sin, b = -u * sin + v * cos, p = period;
        return switch (texture) {
            case STRIPED -> Math.floorMod((long) Math.floor(a / (p / 2)), 2) == 1;
            case CHEQUERED -> Math.floorMod((long) Math.floor(a / p) + (long) Math.floor(b / p), 2) == 1;
            case DOTTED -> {
                double da = a - p * Math.floor(a / p) - p / 2, db = b - p * Math.floor(b / p) - p / 2;
                yield da * da + db * db < 0.11 * p * p;
            }
            case ZIGZAGGED -> {
                double t = b / p - Math.floor(b / p);
                double wave = (t < 0.5 ? t : 1 - t) * p;
                yield Math.floorMod((long) Math.floor((a + wave) / (p / 2)), 2) == 1;
            }
            case SPECKLED -> (hash(speckleSeed, px, py) >>> 40) % 100 < 30;
            default -> throw new IllegalStateException(texture + " is not a texture");
        };
    }

    static long hash(long seed, int x, int y) {
        long z = seed + 0x9E3779B97F4A7C15L * (x * 73_856_093L + y * 19_349_663L + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
