package dev.advinterp.nn.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar for long work: done/total, rate, elapsed and remaining time, and a
 * caller-supplied status (e.g. the running loss). On a terminal the line is redrawn in place at
 * most a few times a second; when output goes to a file or pipe, a line is printed every 10%.
 */
public final class ProgressBar implements AutoCloseable {
    private final PrintStream out;
    private final String task;
    private final long total;
    private final boolean interactive;
    private final long start = System.nanoTime();
    private long done;
    private long lastDraw;
    private int lastDecile = -1;
    private String status = "";

    public ProgressBar(PrintStream out, String task, long total) {
        this.out = out;
        this.task = task;
        this.total = Math.max(1, total);
        this.interactive = out != null && System.console() != null && System.console().isTerminal();
    }

    /** Marks {@code n} more units done, with a new status text. */
    public void step(long n, String status) {
        done += n;
        this.status = status;
        if (out == null) return;
        long now = System.nanoTime();
        if (interactive) {
            if (now - lastDraw > 200_000_000L || done >= total) {
                lastDraw = now;
                out.print("\r" + line() + "\u001b[K");
                out.flush();
            }
        } else {
            int decile = (int) (10 * done / total);
            if (decile > lastDecile) {
                lastDecile = decile;
                out.println(line());
            }
        }
    }

    String line() {
        double secs = (System.nanoTime() - start) / 1e9;
        int width = 24, filled = (int) (width * Math.min(1.0, (double) done / total));
        double rate = done / Math.max(secs, 1e-9);
        double eta = done == 0 ? 0 : (total - done) / rate;
        return String.format(Locale.ROOT, "%s [%s%s] %d/%d %5.1f/s %s<%s %s", task, "=".repeat(filled), " ".repeat(width - filled),
                done, total, rate, clock(secs), clock(eta), status);
    }

    private static String clock(double s) {
        long t = Math.round(s);
        return t >= 3600 ? String.format("%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String.format("%02d:%02d", t / 60, t % 60);
    }

    @Override
    public void close() {
        if (out != null && interactive) out.println();
    }
}
