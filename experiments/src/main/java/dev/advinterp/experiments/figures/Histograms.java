package dev.advinterp.experiments.figures;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Histograms drawn with XChart, as the paper's Figure 5 shows the consistency of a layer's units:
 * one series per set of values (real images, adversarial images), overlapping bars over equal bins
 * of a fixed range, counts on the vertical axis. NaN values (undefined units) are left out.
 */
public final class Histograms {
    private static final Color[] COLOURS = {new Color(31, 119, 180, 170), new Color(214, 39, 40, 170), new Color(44, 160, 44, 170)};

    private Histograms() {
    }

    /** Counts of {@code values} in {@code bins} equal bins of [lo, hi] (the last bin closed). */
    public static int[] counts(double[] values, int bins, double lo, double hi) {
        int[] c = new int[bins];
        for (double v : values) {
            if (Double.isNaN(v) || v < lo || v > hi) continue;
            int b = (int) Math.min(bins - 1, Math.floor((v - lo) / (hi - lo) * bins));
            c[b]++;
        }
        return c;
    }

    /**
     * A chart of several named series' histograms over [lo, hi].
     *
     * @param series name → values (drawn in this order)
     */
    public static BufferedImage draw(String title, String xTitle, Map<String, double[]> series, int bins, double lo, double hi, int width,
                                     int height) {
        CategoryChart chart = new CategoryChartBuilder().width(width).height(height).title(title).xAxisTitle(xTitle).yAxisTitle("units").build();
        chart.getStyler().setOverlapped(true);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setPlotGridVerticalLinesVisible(false);
        chart.getStyler().setAvailableSpaceFill(0.96);
        chart.getStyler().setXAxisLabelRotation(45);
        chart.getStyler().setSeriesColors(COLOURS);
        List<String> labels = new ArrayList<>(bins);
        for (int b = 0; b < bins; b++) labels.add(String.format(Locale.ROOT, "%.2f", lo + (b + 0.5) * (hi - lo) / bins));
        for (Map.Entry<String, double[]> e : series.entrySet()) {
            int[] c = counts(e.getValue(), bins, lo, hi);
            List<Integer> ys = new ArrayList<>(bins);
            for (int v : c) ys.add(v);
            long defined = java.util.Arrays.stream(e.getValue()).filter(v -> !Double.isNaN(v)).count();
            chart.addSeries(e.getKey() + " (" + defined + " units)", labels, ys);
        }
        return BitmapEncoder.getBufferedImage(chart);
    }

    /** Figure 5 for one model: consis and consis_adv of its units over [0, 1]. */
    public static BufferedImage consistency(String model, double[] consis, double[] consisAdv) {
        Map<String, double[]> s = new LinkedHashMap<>();
        s.put("consis (real images)", consis);
        s.put("consis_adv (adversarial images)", consisAdv);
        return draw("Consistency of the units of " + model, "consistency pᵀAp (bin centre)", s, 20, 0, 1, 900, 520);
    }
}
