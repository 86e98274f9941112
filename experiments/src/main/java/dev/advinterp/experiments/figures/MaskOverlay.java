package dev.advinterp.experiments.figures;

import dev.advinterp.experiments.io.ImageCodec;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * Images with a unit's thresholded mask drawn over them, as NetDissect shows its top images: the
 * pixels outside the mask dimmed, the mask's edge outlined; and strips of such tiles with a caption.
 */
public final class MaskOverlay {
    private MaskOverlay() {
    }

    /**
     * One tile: the image ({@code [c, h, w]} floats in [0, 1] at {@code offset}) with {@code mask}
     * ({@code h·w} booleans, row-major) drawn over it.
     */
    public static BufferedImage tile(float[] image, int offset, int c, int h, int w, boolean[] mask) {
        BufferedImage src = ImageCodec.fromChw(image, offset, c, h, w);
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = src.getRGB(x, y) & 0xffffff;
                boolean on = mask[y * w + x];
                if (!on) {
                    int r = (rgb >>> 16) & 255, g = (rgb >>> 8) & 255, b = rgb & 255;
                    rgb = ((r / 4) << 16) | ((g / 4) << 8) | (b / 4);
                } else if (edge(mask, h, w, y, x)) {
                    rgb = 0xffe000;
                }
                out.setRGB(x, y, rgb);
            }
        }
        return out;
    }

    private static boolean edge(boolean[] m, int h, int w, int y, int x) {
        return y == 0 || x == 0 || y == h - 1 || x == w - 1 || !m[(y - 1) * w + x] || !m[(y + 1) * w + x] || !m[y * w + x - 1] || !m[y * w + x + 1];
    }

    /** The image scaled to {@code side}×{@code side} (smooth), or itself when it is that size. */
    public static BufferedImage scaled(BufferedImage img, int side) {
        if (img.getWidth() == side && img.getHeight() == side) return img;
        BufferedImage out = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(img, 0, 0, side, side, null);
        g.dispose();
        return out;
    }

    /** Tiles side by side, each scaled to {@code side} pixels, under a caption line. */
    public static BufferedImage strip(List<BufferedImage> tiles, int side, String caption) {
        int gap = 4, top = 22, n = Math.max(1, tiles.size());
        BufferedImage out = new BufferedImage(n * side + (n + 1) * gap, side + top + gap, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        for (int i = 0; i < tiles.size(); i++) g.drawImage(tiles.get(i), gap + i * (side + gap), top, side, side, null);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        g.drawString(caption, gap, 15);
        g.setStroke(new BasicStroke(1));
        g.dispose();
        return out;
    }
}
