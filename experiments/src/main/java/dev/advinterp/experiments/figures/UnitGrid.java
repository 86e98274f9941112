package dev.advinterp.experiments.figures;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * The paper's Figures 3–4 for one unit: rows of images (the top-activating real images, then the
 * top-activating adversarial ones), each image above its discrepancy map, with captions (the
 * class, or the clean class and what the adversarial image is taken for), under a title naming
 * the unit and its concept.
 */
public final class UnitGrid {
    /** One image and its discrepancy map, with a caption under them. */
    public record Cell(BufferedImage image, BufferedImage discrepancy, String caption) {
    }

    /** A row of cells under a heading. */
    public record Row(String heading, List<Cell> cells) {
    }

    private UnitGrid() {
    }

    public static BufferedImage draw(String title, List<Row> rows, int side) {
        int gap = 6, captionH = 30, headingH = 22, titleH = 30;
        int columns = 1;
        for (Row r : rows) columns = Math.max(columns, r.cells().size());
        int cellW = side, cellH = 2 * side + gap + captionH;
        int width = gap + columns * (cellW + gap), height = titleH + rows.size() * (headingH + cellH + gap) + gap;
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D pg = probe.createGraphics();
        int textW = pg.getFontMetrics(new Font(Font.SANS_SERIF, Font.BOLD, 16)).stringWidth(title);
        for (Row r : rows) textW = Math.max(textW, pg.getFontMetrics(new Font(Font.SANS_SERIF, Font.BOLD, 13)).stringWidth(r.heading()));
        pg.dispose();
        BufferedImage out = new BufferedImage(Math.max(width, textW + 2 * gap), height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString(title, gap, 21);
        int y = titleH;
        for (Row r : rows) {
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
            g.setColor(Color.DARK_GRAY);
            g.drawString(r.heading(), gap, y + 16);
            y += headingH;
            for (int i = 0; i < r.cells().size(); i++) {
                Cell c = r.cells().get(i);
                int x = gap + i * (cellW + gap);
                g.drawImage(c.image(), x, y, side, side, null);
                g.drawImage(c.discrepancy(), x, y + side + gap / 2, side, side, null);
                g.setColor(Color.BLACK);
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
                caption(g, c.caption(), x, y + 2 * side + gap + 12, cellW);
            }
            y += cellH + gap;
        }
        g.dispose();
        return out;
    }

    /** The caption on up to two lines that fit the cell's width. */
    private static void caption(Graphics2D g, String text, int x, int y, int width) {
        FontMetrics fm = g.getFontMetrics();
        String[] words = text.split(" ");
        StringBuilder line = new StringBuilder();
        int lines = 0;
        for (String w : words) {
            String next = line.isEmpty() ? w : line + " " + w;
            if (fm.stringWidth(next) > width && !line.isEmpty()) {
                g.drawString(line.toString(), x, y + lines * 13);
                lines++;
                line = new StringBuilder(w);
                if (lines == 2) return;
            } else {
                line = new StringBuilder(next);
            }
        }
        if (lines < 2) g.drawString(line.toString(), x, y + lines * 13);
    }
}
