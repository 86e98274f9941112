package dev.advinterp.experiments.data.scenes;

/**
 * A filled plane figure in pixel coordinates (x right, y down; pixel (i, j) has its centre at
 * (j + ½, i + ½)). Figures are tested point by point, so any shape with an inside test can be drawn
 * with the same painter and give an exact mask.
 */
sealed interface Figure {

    boolean contains(double x, double y);

    Bounds bounds();

    Figure shifted(double dx, double dy);

    record Bounds(double x0, double y0, double x1, double y1) {
        Bounds union(Bounds o) {
            return new Bounds(Math.min(x0, o.x0), Math.min(y0, o.y0), Math.max(x1, o.x1), Math.max(y1, o.y1));
        }

        Bounds grown(double m) {
            return new Bounds(x0 - m, y0 - m, x1 + m, y1 + m);
        }

        boolean overlaps(Bounds o) {
            return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1;
        }

        double width() {
            return x1 - x0;
        }

        double height() {
            return y1 - y0;
        }
    }

    record Rect(double x0, double y0, double x1, double y1) implements Figure {
        public boolean contains(double x, double y) {
            return x >= x0 && x < x1 && y >= y0 && y < y1;
        }

        public Bounds bounds() {
            return new Bounds(x0, y0, x1, y1);
        }

        public Rect shifted(double dx, double dy) {
            return new Rect(x0 + dx, y0 + dy, x1 + dx, y1 + dy);
        }
    }

    record Disc(double cx, double cy, double r) implements Figure {
        public boolean contains(double x, double y) {
            double dx = x - cx, dy = y - cy;
            return dx * dx + dy * dy < r * r;
        }

        public Bounds bounds() {
            return new Bounds(cx - r, cy - r, cx + r, cy + r);
        }

        public Disc shifted(double dx, double dy) {
            return new Disc(cx + dx, cy + dy, r);
        }
    }

    record Triangle(double ax, double ay, double bx, double by, double cx, double cy) implements Figure {
        public boolean contains(double x, double y) {
            double d1 = side(x, y, ax, ay, bx, by), d2 = side(x, y, bx, by, cx, cy), d3 = side(x, y, cx, cy, ax, ay);
            boolean neg = d1 < 0 || d2 < 0 || d3 < 0, pos = d1 > 0 || d2 > 0 || d3 > 0;
            return !(neg && pos);
        }

        private static double side(double x, double y, double x1, double y1, double x2, double y2) {
            return (x - x2) * (y1 - y2) - (x1 - x2) * (y - y2);
        }

        public Bounds bounds() {
            return new Bounds(Math.min(ax, Math.min(bx, cx)), Math.min(ay, Math.min(by, cy)),
                    Math.max(ax, Math.max(bx, cx)), Math.max(ay, Math.max(by, cy)));
        }

        public Triangle shifted(double dx, double dy) {
            return new Triangle(ax + dx, ay + dy, bx + dx, by + dy, cx + dx, cy + dy);
        }

        /** The similar triangle at vertex a that spans {@code fraction} of the way to the opposite side. */
        Triangle tip(double fraction) {
            return new Triangle(ax, ay, ax + (bx - ax) * fraction, ay + (by - ay) * fraction,
                    ax + (cx - ax) * fraction, ay + (cy - ay) * fraction);
        }
    }

    /** A disc with a bite taken out by a second disc. */
    record Crescent(Disc outer, Disc bite) implements Figure {
        public boolean contains(double x, double y) {
            return outer.contains(x, y) && !bite.contains(x, y);
        }

        public Bounds bounds() {
            return outer.bounds();
        }

        public Crescent shifted(double dx, double dy) {
            return new Crescent(outer.shifted(dx, dy), bite.shifted(dx, dy));
        }
    }

    /** A rectangle of length 2·halfLength and width 2·halfWidth around its centre, turned by (cos, sin). */
    record Bar(double cx, double cy, double halfLength, double halfWidth, double cos, double sin) implements Figure {
        public boolean contains(double x, double y) {
            double dx = x - cx, dy = y - cy;
            double u = dx * cos + dy * sin, v = -dx * sin + dy * cos;
            return Math.abs(u) < halfLength && Math.abs(v) < halfWidth;
        }

        public Bounds bounds() {
            double ex = Math.abs(halfLength * cos) + Math.abs(halfWidth * sin), ey = Math.abs(halfLength * sin) + Math.abs(halfWidth * cos);
            return new Bounds(cx - ex, cy - ey, cx + ex, cy + ey);
        }

        public Bar shifted(double dx, double dy) {
            return new Bar(cx + dx, cy + dy, halfLength, halfWidth, cos, sin);
        }
    }
}
