package dev.advinterp.experiments.data.scenes;

import dev.advinterp.experiments.data.scenes.Figure.Bar;
import dev.advinterp.experiments.data.scenes.Figure.Bounds;
import dev.advinterp.experiments.data.scenes.Figure.Crescent;
import dev.advinterp.experiments.data.scenes.Figure.Disc;
import dev.advinterp.experiments.data.scenes.Figure.Rect;
import dev.advinterp.experiments.data.scenes.Figure.Triangle;
import dev.advinterp.experiments.data.scenes.SceneCanvas.Boundary;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static dev.advinterp.experiments.data.scenes.SceneConcept.*;

/**
 * Draws scene {@code index} of a generated set from (seed, index) alone, so images can be made in
 * any order and on any number of threads with the same bytes.
 *
 * <p>A scene is a background (the whole-image scene label: bands of stuff such as sky, water, sand,
 * road, wall, floor, each an object concept), one "thing" that decides the class, and one to four
 * distractor objects kept apart from it. A thing is one or two bodies (box, disc, triangle,
 * crescent) with parts (wheel, window, ear, stem, cap); its class follows from which body, which
 * parts, how many and where, and from its size — never from colour, texture or material, which are
 * drawn independently for every object and part. Distractors are bare bodies, so no distractor can
 * complete another class. The scene is the class's usual one 30% of the time and uniform otherwise.
 */
final class SceneComposer {
    private static final long SPLIT_SALT = 0x5EEDF00DCAFEL;
    private final int size;
    private final long seed;
    private final double valFraction;
    private final double unit;
    private final Difficulty difficulty;

    SceneComposer(int size, long seed, double valFraction, Difficulty difficulty) {
        this.size = size;
        this.seed = seed;
        this.valFraction = valFraction;
        this.unit = size / 64.0;
        this.difficulty = difficulty;
    }

    /** Classes cycle with the index, so every run of {@code classes} consecutive images holds each class once. */
    static SceneClass classOf(int index) {
        SceneClass[] all = SceneClass.values();
        return all[index % all.length];
    }

    /** A whole cycle of classes goes to one split, so both splits stay balanced. */
    boolean isVal(int index) {
        long h = mix(seed ^ SPLIT_SALT, index / SceneClass.values().length);
        return (h >>> 11) * 0x1.0p-53 < valFraction;
    }

    static long mix(long a, long b) {
        long z = a * 0x9E3779B97F4A7C15L + b + 0x632BE59BD9B4E019L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A body or a part of a thing; a part's pixels also carry its body's object label. */
    private record Piece(Figure figure, SceneConcept object, SceneConcept part) {
        Piece shifted(double dx, double dy) {
            return new Piece(figure.shifted(dx, dy), object, part);
        }
    }

    RenderedScene render(int index) {
        SceneClass cls = classOf(index);
        SplittableRandom r = new SplittableRandom(mix(seed, index));
        SceneCanvas canvas = new SceneCanvas(size);
        SceneConcept scene = r.nextDouble() < difficulty.usualScene ? cls.usualScene() : SCENES[r.nextInt(SCENES.length)];
        background(canvas, scene, r);

        List<Piece> thing = place(thing(cls, r), r);
        Bounds keepOut = bounds(thing).grown(1.5 * unit + 1);
        List<Bounds> taken = new ArrayList<>();
        taken.add(keepOut);
        // For the standard difficulty this is the draw it always was (1 + nextInt(4)), so those scenes keep their bytes.
        int distractors = difficulty.minDistractors + r.nextInt(difficulty.maxDistractors - difficulty.minDistractors + 1);
        for (int k = 0; k < distractors; k++) {
            for (int attempt = 0; attempt < 25; attempt++) {
                Figure f = distractor(r);
                Bounds b = f.bounds();
                if (b.x0() < 0 || b.y0() < 0 || b.x1() > size || b.y1() > size) continue;
                if (taken.stream().anyMatch(t -> t.overlaps(b))) continue;
                taken.add(b.grown(1));
                canvas.fill(f, objectPaint(r, null), objectOf(f), null);
                break;
            }
        }
        Paint body = null;
        SceneConcept bodyColour = null;
        for (Piece p : thing) {
            if (p.part() == null) {
                body = objectPaint(r, null);
                bodyColour = body.colour();
                canvas.fill(p.figure(), body, p.object(), null);
            } else {
                canvas.fill(p.figure(), partPaint(r, bodyColour), p.object(), p.part());
            }
        }
        canvas.degrade(r, uniform(r, 0.85, 1.15), uniform(r, -0.05, 0.05), uniform(r, difficulty.minNoise, difficulty.maxNoise));

        Map<String, int[]> masks = new HashMap<>();
        int[][] planes = {canvas.colour, canvas.object, canvas.material, canvas.part, canvas.texture};
        for (int c = 0; c < planes.length; c++) {
            int[] half = canvas.half(planes[c]);
            for (int v : half) {
                if (v != 0) {
                    masks.put(MASK_CATEGORIES.get(c), half);
                    break;
                }
            }
        }
        return new RenderedScene(index, cls, isVal(index), size, canvas.packedRgb(), scene, masks);
    }

    // ---- the class-deciding thing, in local coordinates ----

    private List<Piece> thing(SceneClass cls, SplittableRandom r) {
        List<Piece> out = new ArrayList<>();
        double s = size * difficulty.thingScale;
        switch (cls) {
            case SPORTS_CAR -> vehicle(out, r, s * uniform(r, 0.45, 0.65), uniform(r, 0.28, 0.36), uniform(r, 0.38, 0.46), 0, 0);
            case SCHOOL_BUS -> vehicle(out, r, s * uniform(r, 0.5, 0.7), uniform(r, 0.45, 0.55), uniform(r, 0.22, 0.27), 3, 0.3);
            case PICKUP -> vehicle(out, r, s * uniform(r, 0.45, 0.65), uniform(r, 0.36, 0.44), uniform(r, 0.3, 0.36), 1, 0.4);
            case TABBY -> {
                double rad = s * uniform(r, 0.12, 0.2);
                out.add(new Piece(new Disc(0, 0, rad), DISC, null));
                for (int side = -1; side <= 1; side += 2) {
                    double[] a = polar(35, 0.9 * rad, side), b = polar(80, 0.9 * rad, side), apex = polar(55, 1.65 * rad, side);
                    out.add(new Piece(new Triangle(apex[0], apex[1], a[0], a[1], b[0], b[1]), DISC, EAR));
                }
            }
            case CHIHUAHUA -> head(out, s * uniform(r, 0.08, 0.115), uniform(r, 0.5, 0.6), 50, 1.05);
            case LABRADOR -> head(out, s * uniform(r, 0.17, 0.24), uniform(r, 0.34, 0.42), 5, 1.0);
            case VOLCANO -> {
                double w = s * uniform(r, 0.5, 0.75), h = w * uniform(r, 0.45, 0.65);
                mountain(out, r, 0, w, h, h);
            }
            case ALP -> {
                double w1 = s * uniform(r, 0.35, 0.5), h1 = w1 * uniform(r, 0.7, 0.95);
                double w2 = s * uniform(r, 0.3, 0.45), h2 = w2 * uniform(r, 0.6, 0.9), dx = w1 * uniform(r, 0.45, 0.65);
                // Either peak may stand in front.
                if (r.nextBoolean()) {
                    mountain(out, r, 0, w1, h1, h1);
                    mountain(out, r, dx, w2, h2, h1);
                } else {
                    mountain(out, r, dx, w2, h2, h1);
                    mountain(out, r, 0, w1, h1, h1);
                }
            }
            case ORANGE -> {
                double rad = s * uniform(r, 0.11, 0.19), half = rad * uniform(r, 0.25, 0.35), tilt = Math.toRadians(uniform(r, -15, 15));
                out.add(new Piece(new Disc(0, 0, rad), DISC, null));
                // At least two pixels wide, so the stem survives the halving of the masks.
                double cx = StrictMath.sin(tilt) * (rad + half * 0.8), cy = -StrictMath.cos(tilt) * (rad + half * 0.8);
                out.add(new Piece(new Bar(cx, cy, half, Math.max(1.1, rad * 0.13), StrictMath.sin(tilt), -StrictMath.cos(tilt)), DISC, STEM));
            }
            case BANANA -> {
                double big = s * uniform(r, 0.15, 0.22), bite = big * uniform(r, 0.8, 0.88), d = big * uniform(r, 0.35, 0.45);
                double th = uniform(r, 0, 2 * Math.PI), ux = StrictMath.cos(th), uy = StrictMath.sin(th);
                out.add(new Piece(new Crescent(new Disc(0, 0, big), new Disc(d * ux, d * uy, bite)), CRESCENT, null));
                // The stem grows from one horn of the crescent, where the two circles meet.
                double a = (d * d + big * big - bite * bite) / (2 * d), h = Math.sqrt(Math.max(0, big * big - a * a));
                int sign = r.nextBoolean() ? 1 : -1;
                double tx = a * ux - sign * h * uy, ty = a * uy + sign * h * ux, n = Math.hypot(tx, ty);
                double half = big * 0.22, ox = tx / n, oy = ty / n;
                out.add(new Piece(new Bar(tx + ox * half * 0.8, ty + oy * half * 0.8, half, Math.max(1.1, big * 0.1), ox, oy), CRESCENT, STEM));
            }
        }
        if (r.nextBoolean()) {
            List<Piece> mirrored = new ArrayList<>();
            for (Piece p : out) mirrored.add(new Piece(mirror(p.figure()), p.object(), p.part()));
            return mirrored;
        }
        return out;
    }

    /** A box of width w and height w·aspect on two wheels, with {@code windows} windows of side window·height along its top. */
    private static void vehicle(List<Piece> out, SplittableRandom r, double w, double aspect, double wheel, int windows, double window) {
        double h = w * aspect;
        out.add(new Piece(new Rect(0, 0, w, h), BOX, null));
        double wr = h * wheel;
        out.add(new Piece(new Disc(w * 0.22, h, wr), BOX, WHEEL));
        out.add(new Piece(new Disc(w * 0.78, h, wr), BOX, WHEEL));
        double side = h * window, top = h * 0.15;
        if (windows == 1) {
            // A pickup's cab sits at the front, the bed behind it is bare.
            double x = w * 0.62;
            out.add(new Piece(new Rect(x, top, x + side, top + side), BOX, WINDOW));
        } else if (windows > 1) {
            double gap = (w - windows * side) / (windows + 1);
            for (int k = 0; k < windows; k++) {
                double x = gap + k * (side + gap);
                out.add(new Piece(new Rect(x, top, x + side, top + side), BOX, WINDOW));
            }
        }
    }

    /** A round head of radius rad with two round ears of radius ear·rad at ±angle from the horizontal, at distance dist·rad. */
    private static void head(List<Piece> out, double rad, double ear, double angle, double dist) {
        out.add(new Piece(new Disc(0, 0, rad), DISC, null));
        for (int side = -1; side <= 1; side += 2) {
            double[] c = polar(angle, dist * rad, side);
            out.add(new Piece(new Disc(c[0], c[1], ear * rad), DISC, EAR));
        }
    }

    /** A peak of width w and height h whose base lies at y = baseline, starting at x, with a cap at its tip. */
    private static void mountain(List<Piece> out, SplittableRandom r, double x, double w, double h, double baseline) {
        Triangle t = new Triangle(x + w * uniform(r, 0.4, 0.6), baseline - h, x, baseline, x + w, baseline);
        out.add(new Piece(t, TRIANGLE, null));
        out.add(new Piece(t.tip(uniform(r, 0.25, 0.35)), TRIANGLE, CAP));
    }

    /** The point at {@code degrees} (counter-clockwise from the right, y up) and distance rho, mirrored when side is −1. */
    private static double[] polar(double degrees, double rho, int side) {
        double a = Math.toRadians(degrees);
        return new double[]{side * rho * StrictMath.cos(a), -rho * StrictMath.sin(a)};
    }

    private static Figure mirror(Figure f) {
        return switch (f) {
            case Rect(double x0, double y0, double x1, double y1) -> new Rect(-x1, y0, -x0, y1);
            case Disc(double cx, double cy, double rad) -> new Disc(-cx, cy, rad);
            case Triangle(double ax, double ay, double bx, double by, double cx, double cy) -> new Triangle(-ax, ay, -bx, by, -cx, cy);
            case Crescent(Disc o, Disc b) -> new Crescent((Disc) mirror(o), (Disc) mirror(b));
            case Bar(double cx, double cy, double hl, double hw, double cos, double sin) -> new Bar(-cx, cy, hl, hw, -cos, sin);
        };
    }

    private static Bounds bounds(List<Piece> pieces) {
        Bounds b = pieces.getFirst().figure().bounds();
        for (Piece p : pieces) b = b.union(p.figure().bounds());
        return b;
    }

    /** Moves the thing to a random place that keeps it inside the image. */
    private List<Piece> place(List<Piece> thing, SplittableRandom r) {
        Bounds b = bounds(thing);
        double m = 1;
        double lx = m - b.x0(), hx = size - m - b.x1(), ly = m - b.y0(), hy = size - m - b.y1();
        double dx = hx > lx ? uniform(r, lx, hx) : (lx + hx) / 2, dy = hy > ly ? uniform(r, ly, hy) : (ly + hy) / 2;
        List<Piece> out = new ArrayList<>(thing.size());
        for (Piece p : thing) out.add(p.shifted(dx, dy));
        return out;
    }

    // ---- distractors ----

    private Figure distractor(SplittableRandom r) {
        double d = size * uniform(r, 0.07, 0.17), cx = uniform(r, 0, size), cy = uniform(r, 0, size);
        return switch (r.nextInt(5)) {
            case 0 -> {
                double w = d * uniform(r, 0.6, 1.3), h = d * uniform(r, 0.6, 1.3);
                yield new Rect(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2);
            }
            case 1 -> new Disc(cx, cy, d / 2 * uniform(r, 0.8, 1.2));
            case 2 -> {
                double a = uniform(r, 0, 2 * Math.PI), rho = d * 0.55;
                double[] p = new double[6];
                for (int k = 0; k < 3; k++) {
                    double ak = a + k * 2 * Math.PI / 3, rk = rho * uniform(r, 0.85, 1.15);
                    p[2 * k] = cx + rk * StrictMath.cos(ak);
                    p[2 * k + 1] = cy + rk * StrictMath.sin(ak);
                }
                yield new Triangle(p[0], p[1], p[2], p[3], p[4], p[5]);
            }
            case 3 -> {
                double rad = d / 2, th = uniform(r, 0, 2 * Math.PI), off = rad * 0.45;
                yield new Crescent(new Disc(cx, cy, rad), new Disc(cx + off * StrictMath.cos(th), cy + off * StrictMath.sin(th), rad * 0.85));
            }
            default -> {
                double th = uniform(r, 0, Math.PI);
                yield new Bar(cx, cy, d * uniform(r, 0.5, 0.9), Math.max(0.8, d * uniform(r, 0.1, 0.18)), StrictMath.cos(th), StrictMath.sin(th));
            }
        };
    }

    private static SceneConcept objectOf(Figure f) {
        return switch (f) {
            case Rect x -> BOX;
            case Disc x -> DISC;
            case Triangle x -> TRIANGLE;
            case Crescent x -> CRESCENT;
            case Bar x -> BAR;
        };
    }

    // ---- paints ----

    private Paint objectPaint(SplittableRandom r, SceneConcept avoid) {
        SceneConcept colour = colour(r, avoid);
        Paint p = Paint.plain(colour, jitter(r, colour));
        if (r.nextDouble() < 0.6) p = textured(r, p, TEXTURES[r.nextInt(TEXTURES.length)], contrast(colour));
        SceneConcept material = MATERIALS[r.nextInt(MATERIALS.length)];
        double a = uniform(r, 0, 2 * Math.PI);
        return p.withMaterial(material, material == METAL ? 0.9 : 0, StrictMath.cos(a), StrictMath.sin(a));
    }

    private Paint partPaint(SplittableRandom r, SceneConcept bodyColour) {
        SceneConcept colour = colour(r, bodyColour);
        SceneConcept material = MATERIALS[r.nextInt(MATERIALS.length)];
        double a = uniform(r, 0, 2 * Math.PI);
        return Paint.plain(colour, jitter(r, colour)).withMaterial(material, material == METAL ? 0.9 : 0, StrictMath.cos(a), StrictMath.sin(a));
    }

    private Paint textured(SplittableRandom r, Paint p, SceneConcept texture, SceneConcept second) {
        double a = Math.toRadians(45 * r.nextInt(4) + uniform(r, -10, 10));
        double period = Math.max(2.5, unit * uniform(r, 3.5, 6.5));
        return p.withTexture(texture, second, jitter(r, second), period, StrictMath.cos(a), StrictMath.sin(a), r.nextLong());
    }

    private static SceneConcept colour(SplittableRandom r, SceneConcept avoid) {
        while (true) {
            SceneConcept c = COLOURS[r.nextInt(COLOURS.length)];
            if (c != avoid) return c;
        }
    }

    /** Black on light colours, white on dark ones, so a texture is always visible. */
    private static SceneConcept contrast(SceneConcept c) {
        int rgb = c.rgb();
        double lum = 0.299 * ((rgb >>> 16) & 255) + 0.587 * ((rgb >>> 8) & 255) + 0.114 * (rgb & 255);
        return lum > 140 ? BLACK : WHITE;
    }

    /** The colour's prototype moved by up to ±14 per channel: varied, but still nearest to its name. */
    private static int jitter(SplittableRandom r, SceneConcept c) {
        int rgb = c.rgb(), out = 0;
        for (int shift = 16; shift >= 0; shift -= 8) {
            int v = Math.clamp(((rgb >>> shift) & 255) + r.nextInt(-14, 15), 0, 255);
            out |= v << shift;
        }
        return out;
    }

    private Paint stuff(SplittableRandom r, SceneConcept... colours) {
        SceneConcept c = colours[r.nextInt(colours.length)];
        return Paint.plain(c, jitter(r, c));
    }

    private Paint maybeTextured(SplittableRandom r, Paint p, double probability, SceneConcept... textures) {
        if (r.nextDouble() >= probability) return p;
        return textured(r, p, textures[r.nextInt(textures.length)], contrast(p.colour()));
    }

    // ---- backgrounds ----

    private Boundary line(SplittableRandom r, double from, double to, double wave) {
        return new Boundary(size * uniform(r, from, to), size * uniform(r, 0, wave), size * uniform(r, 0.6, 1.5), uniform(r, 0, 2 * Math.PI));
    }

    private void sky(SceneCanvas c, SplittableRandom r) {
        double p = r.nextDouble();
        SceneConcept colour = p < 0.6 ? BLUE : p < 0.8 ? WHITE : GREY;
        // Skies lighten toward the horizon.
        c.fillBelow(null, Paint.plain(colour, jitter(r, colour)).withShade(0.3, 0, 1), SKY);
    }

    private void background(SceneCanvas c, SceneConcept scene, SplittableRandom r) {
        switch (scene) {
            case BEACH -> {
                sky(c, r);
                c.fillBelow(line(r, 0.3, 0.45, 0.02), maybeTextured(r, stuff(r, BLUE, GREEN), 0.5, ZIGZAGGED), WATER);
                c.fillBelow(line(r, 0.6, 0.75, 0.04), maybeTextured(r, stuff(r, YELLOW, ORANGE, BROWN, WHITE), 0.5, SPECKLED), SAND);
            }
            case FOREST -> {
                c.fillBelow(null, maybeTextured(r, stuff(r, GREEN, GREEN, BROWN, ORANGE, YELLOW), 0.6, SPECKLED), TREE);
                Boundary ground = line(r, 0.7, 0.85, 0.03);
                int trunks = 3 + r.nextInt(4);
                for (int k = 0; k < trunks; k++) {
                    double x = uniform(r, 0, size), w = unit * uniform(r, 2, 4), top = size * uniform(r, 0.15, 0.5);
                    c.fill(new Rect(x, top, x + w, size), stuff(r, BROWN, BLACK), TREE, null);
                }
                c.fillBelow(ground, maybeTextured(r, stuff(r, GREEN, YELLOW, BROWN), 0.3, SPECKLED, STRIPED), GRASS);
            }
            case STREET -> {
                sky(c, r);
                c.fillBelow(line(r, 0.2, 0.35, 0), maybeTextured(r, stuff(r, WHITE, GREY, RED, BROWN, YELLOW, PINK), 0.3, STRIPED, CHEQUERED), WALL);
                Boundary kerb = line(r, 0.6, 0.72, 0);
                c.fillBelow(kerb, stuff(r, GREY, BLACK), ROAD);
                double y = (kerb.base() + size) / 2, dash = unit * uniform(r, 5, 8), hh = Math.max(0.6, unit * 0.8);
                Paint lane = stuff(r, WHITE, YELLOW);
                for (double x = uniform(r, -dash, 0); x < size; x += 2 * dash) c.fill(new Rect(x, y - hh, x + dash, y + hh), lane, ROAD, null);
            }
            case KITCHEN -> {
                c.fillBelow(null, maybeTextured(r, stuff(r, WHITE, YELLOW, PINK, GREY, BLUE, GREEN), 0.4, STRIPED, DOTTED), WALL);
                Paint floor = stuff(r, BROWN, GREY, WHITE);
                if (r.nextDouble() < 0.6) floor = textured(r, floor, CHEQUERED, floor.colour() == WHITE ? BLACK : WHITE);
                c.fillBelow(line(r, 0.55, 0.75, 0), floor, FLOOR);
            }
            case SNOWFIELD -> {
                sky(c, r);
                Paint snow = stuff(r, WHITE);
                if (r.nextDouble() < 0.4) snow = textured(r, snow, SPECKLED, GREY);
                c.fillBelow(line(r, 0.35, 0.6, 0.05), snow, SNOW);
            }
            case MEADOW -> {
                sky(c, r);
                c.fillBelow(line(r, 0.4, 0.65, 0.04), maybeTextured(r, stuff(r, GREEN, GREEN, YELLOW, BROWN), 0.4, SPECKLED, STRIPED), GRASS);
            }
            default -> throw new IllegalStateException(scene + " is not a scene");
        }
    }

    private static double uniform(SplittableRandom r, double lo, double hi) {
        return lo + (hi - lo) * r.nextDouble();
    }
}
