package dev.advinterp.bench;

import dev.advinterp.experiments.data.BatchLoader;
import dev.advinterp.experiments.data.ImageNetClasses;
import dev.advinterp.experiments.data.ImageNetFolder;
import dev.advinterp.experiments.data.ImageNetTransform;
import dev.advinterp.experiments.data.RgbImage;
import dev.advinterp.nn.train.Batch;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Iterator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/**
 * Measures the ImageNet evaluation pipeline (JPEG decode, resize of the shorter side to 256,
 * centre crop 224) in images per second, on one thread and on all cores through the
 * {@link BatchLoader}, on generated 500×375 JPEGs (ImageNet's most common size) of about
 * ImageNet's file size. Usage: {@code PipelineThroughput [images] [threads]}.
 */
public final class PipelineThroughput {
    private PipelineThroughput() {
    }

    public static void main(String[] args) throws Exception {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 256;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : Runtime.getRuntime().availableProcessors();
        Path root = Files.createTempDirectory("advinterp-throughput");
        try {
            Path classDir = Files.createDirectories(root.resolve("val").resolve(ImageNetClasses.wnids().getFirst()));
            long bytes = generate(classDir, count);
            ImageNetFolder data = ImageNetFolder.open(root, "val");
            System.out.printf("%d JPEGs of 500×375, %.0f kB on average, in %s; %d threads on %d cores%n",
                    count, bytes / 1024.0 / count, classDir, threads, Runtime.getRuntime().availableProcessors());

            // Warm the JIT and the decoder's tables before anything is timed.
            for (int i = 0; i < Math.min(count, 64); i++) data.get(i, null);

            Rate decodeOnly = measure(count, () -> IntStream.range(0, count).forEach(i -> decode(data.file(i))));
            RgbImage sample = decode(data.file(0));
            Rate transformOnly = measure(count, () -> IntStream.range(0, count).forEach(i -> ImageNetTransform.STANDARD.evaluation(sample)));
            Rate single = measure(count, () -> IntStream.range(0, count).forEach(i -> data.get(i, null)));
            Rate loader = measure(count, () -> {
                try (BatchLoader l = new BatchLoader(data, 32, false, false, 0, null, false, threads, 4)) {
                    for (Iterator<Batch> it = l.epoch(0); it.hasNext(); ) it.next();
                }
            });
            System.out.println();
            System.out.println("| evaluation pipeline stage                         | images/s (wall) | images/s per thread | images per CPU-second |");
            System.out.println("|---------------------------------------------------|----------------:|--------------------:|----------------------:|");
            row("decode only, 1 thread", decodeOnly, 1);
            row("resize 256 + crop 224 only, 1 thread", transformOnly, 1);
            row("decode + resize + crop, 1 thread", single, 1);
            row("decode + resize + crop, BatchLoader, " + threads + " threads", loader, threads);
            System.out.printf("%nparallel speed-up %.2f× on %d threads; system load average %.1f%n", loader.wall() / single.wall(), threads,
                    ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
            System.out.println("(images per CPU-second counts the process's CPU time, so it holds when other processes share the cores)");
        } finally {
            try (Stream<Path> files = Files.walk(root)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    /** Images per second of wall-clock time, and per second of the process's CPU time (all its threads, GC and JIT included). */
    private record Rate(double wall, double cpu) {
    }

    private static void row(String what, Rate rate, int threads) {
        System.out.printf("| %-49s | %15.1f | %19.1f | %21.1f |%n", what, rate.wall(), rate.wall() / threads, rate.cpu());
    }

    /** The best of three runs of {@code work} over {@code count} images. */
    private static Rate measure(int count, Runnable work) {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long bestWall = Long.MAX_VALUE, bestCpu = Long.MAX_VALUE;
        for (int run = 0; run < 3; run++) {
            long c0 = os.getProcessCpuTime(), t0 = System.nanoTime();
            work.run();
            bestWall = Math.min(bestWall, System.nanoTime() - t0);
            bestCpu = Math.min(bestCpu, os.getProcessCpuTime() - c0);
        }
        return new Rate(count / (bestWall / 1e9), count / (bestCpu / 1e9));
    }

    private static RgbImage decode(Path file) {
        try {
            return RgbImage.read(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Photograph-like content: smooth colour fields with blobs and fine noise, written at quality
     * 0.9, which gives files near ImageNet's average of about 110 kB.
     */
    private static long generate(Path dir, int count) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ImageWriteParam param = writer.getDefaultWriteParam();
        param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        param.setCompressionQuality(0.9f);
        long bytes = 0;
        try {
            for (int n = 0; n < count; n++) {
                SplittableRandom r = new SplittableRandom(n);
                BufferedImage img = new BufferedImage(500, 375, BufferedImage.TYPE_3BYTE_BGR);
                byte[] bgr = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
                double[][] blobs = new double[6][];
                for (int b = 0; b < blobs.length; b++) {
                    double radius = 20 + r.nextDouble(120);
                    blobs[b] = new double[] {r.nextDouble(500), r.nextDouble(375), radius * radius, r.nextDouble(), r.nextDouble(), r.nextDouble()};
                }
                for (int y = 0, p = 0; y < 375; y++) {
                    for (int x = 0; x < 500; x++, p += 3) {
                        double red = 0.3 + 0.4 * x / 500, green = 0.3 + 0.4 * y / 375, blue = 0.5;
                        for (double[] b : blobs) {
                            double dx = x - b[0], dy = y - b[1];
                            if (dx * dx + dy * dy < b[2]) {
                                red = b[3];
                                green = b[4];
                                blue = b[5];
                            }
                        }
                        int noise = r.nextInt(25) - 12;
                        bgr[p] = (byte) clamp(blue * 255 + noise);
                        bgr[p + 1] = (byte) clamp(green * 255 + noise);
                        bgr[p + 2] = (byte) clamp(red * 255 + noise);
                    }
                }
                Path file = dir.resolve(String.format("img_%05d.JPEG", n));
                try (ImageOutputStream out = ImageIO.createImageOutputStream(file.toFile())) {
                    writer.setOutput(out);
                    writer.write(null, new IIOImage(img, null, null), param);
                }
                bytes += Files.size(file);
            }
        } finally {
            writer.dispose();
        }
        return bytes;
    }

    private static int clamp(double v) {
        return (int) Math.max(0, Math.min(255, Math.round(v)));
    }
}
