package dev.advinterp.experiments.data.scenes;

import java.util.SplittableRandom;

/**
 * The pixels of one scene being drawn, in floats, with a full-resolution label plane per masked
 * category that the painter keeps in step with every pixel it writes, so the masks are exactly
 * what was drawn.
 */
final class SceneCanvas {
    final int size;
    final float[] r, g, b;
    final int[] colour, object, material, part, texture;

    SceneCanvas(int size) {
        this.size = size;
        int n = size * size;
        r = new float[n];
        g = new float[n];
        b = new float[n];
        colour = new int[n];
        object = new int[n];
        material = new int[n];
        part = new int[n];
        texture = new int[n];
    }

    /** A wavy horizontal line y(x) = base + amp·sin(2πx/wavelength + phase). */
    record Boundary(double base, double amp, double wavelength, double phase) {
        double y(double x) {
            return base + amp * StrictMath.sin(2 * Math.PI * x / wavelength + phase);
        }
    }

    /** Background stuff from {@code top} (null: the top edge) down to the bottom edge. */
    void fillBelow(Boundary top, Paint p, SceneConcept stuff) {
        Figure.Bounds all = new Figure.Bounds(0, 0, size, size);
        for (int x = 0; x < size; x++) {
            double cx = x + 0.5, y0 = top == null ? 0 : top.y(cx);
            for (int y = Math.max(0, (int) Math.floor(y0)); y < size; y++) {
                if (y + 0.5 >= y0) put(y * size + x, cx, y + 0.5, p, all, stuff, null);
            }
        }
    }

    /** An object body ({@code part} null: the part labels under it are cleared) or a part of one. */
    void fill(Figure f, Paint p, SceneConcept object, SceneConcept part) {
        Figure.Bounds bb = f.bounds();
        int x0 = Math.max(0, (int) Math.floor(bb.x0())), x1 = Math.min(size - 1, (int) Math.ceil(bb.x1()));
        int y0 = Math.max(0, (int) Math.floor(bb.y0())), y1 = Math.min(size - 1, (int) Math.ceil(bb.y1()));
        for (int y = y0; y <= y1; y++) {
            for (int x = x0; x <= x1; x++) {
                double cx = x + 0.5, cy = y + 0.5;
                if (f.contains(cx, cy)) put(y * size + x, cx, cy, p, bb, object, part);
            }
        }
    }

    private void put(int i, double x, double y, Paint p, Figure.Bounds bb, SceneConcept obj, SceneConcept prt) {
        boolean alt = p.secondAt(x - bb.x0(), y - bb.y0(), (int) x, (int) y);
        int rgb = alt ? p.secondRgb() : p.rgb();
        double f = 1;
        if (p.shade() != 0) {
            double w = Math.max(1, Math.abs(bb.width() * p.shadeCos()) + Math.abs(bb.height() * p.shadeSin()));
            double t = ((x - (bb.x0() + bb.x1()) / 2) * p.shadeCos() + (y - (bb.y0() + bb.y1()) / 2) * p.shadeSin()) / w;
            f = 1 + p.shade() * t;
        }
        float cr = clamp(((rgb >>> 16) & 255) / 255.0 * f), cg = clamp(((rgb >>> 8) & 255) / 255.0 * f), cb = clamp((rgb & 255) / 255.0 * f);
        if (p.material() == SceneConcept.GLASS) {
            // Glass lets what is behind show through, so its colour is seen only partly.
            r[i] = 0.4f * r[i] + 0.6f * cr;
            g[i] = 0.4f * g[i] + 0.6f * cg;
            b[i] = 0.4f * b[i] + 0.6f * cb;
        } else {
            r[i] = cr;
            g[i] = cg;
            b[i] = cb;
        }
        colour[i] = (alt ? p.second() : p.colour()).number();
        object[i] = obj.number();
        material[i] = p.material() == null ? 0 : p.material().number();
        part[i] = prt == null ? 0 : prt.number();
        texture[i] = p.texture() == null ? 0 : p.texture().number();
    }

    private static float clamp(double v) {
        return (float) Math.min(1, Math.max(0, v));
    }

    /** Camera-like nuisance: a global gain and offset, then Gaussian noise per pixel and channel. */
    void degrade(SplittableRandom random, double gain, double offset, double sigma) {
        for (float[] ch : new float[][]{r, g, b}) {
            for (int i = 0; i < ch.length; i++) ch[i] = clamp(ch[i] * gain + offset + sigma * random.nextGaussian());
        }
    }

    int[] packedRgb() {
        int[] out = new int[size * size];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte8(r[i]) << 16) | (byte8(g[i]) << 8) | byte8(b[i]);
        }
        return out;
    }

    private static int byte8(float v) {
        return Math.round(v * 255);
    }

    /** Labels at half resolution, as Broden stores masks: the most frequent label of each 2×2 block (ties: the first). */
    int[] half(int[] labels) {
        int h = size / 2;
        int[] out = new int[h * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < h; x++) {
                int i = 2 * y * size + 2 * x;
                out[y * h + x] = mode(labels[i], labels[i + 1], labels[i + size], labels[i + size + 1]);
            }
        }
        return out;
    }

    static int mode(int a, int b, int c, int d) {
        int na = 1 + (a == b ? 1 : 0) + (a == c ? 1 : 0) + (a == d ? 1 : 0);
        if (na >= 2) return a;
        int nb = 1 + (b == c ? 1 : 0) + (b == d ? 1 : 0);
        if (nb >= 2) return b;
        return c == d ? c : a;
    }
}
