package dev.advinterp.experiments.io;

import dev.advinterp.engine.io.AtomicFile;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Image files to and from arrays, and the project's one PNG writer (dataset images and masks,
 * adversarial images, figures). Streams are wrapped in memory caches explicitly: ImageIO's own
 * stream factories would otherwise spill every small PNG through a temporary file. Files are
 * written atomically, so a killed run never leaves a truncated PNG under its final name.
 */
public final class ImageCodec {

    /** The largest image file read (ImageNet's largest JPEG is about 15 MB). */
    public static final long MAX_FILE_BYTES = 256L << 20;
    /**
     * The most pixels an image may have (2^25, about 5800×5800; ImageNet's largest has about 12
     * million), checked from its header before decoding: a file of a few bytes can declare any size,
     * and decoding takes up to {@link #BYTES_PER_PIXEL} bytes a pixel.
     */
    public static final long MAX_PIXELS = 1L << 25;
    /** What decoding an image may allocate per pixel it declares (the decoder's raster and the RGB copy). */
    public static final long BYTES_PER_PIXEL = 16;

    /** Looking a writer up costs as much as encoding a small mask, so each thread keeps one. */
    private static final ThreadLocal<ImageWriter> PNG_WRITER = ThreadLocal.withInitial(() -> ImageIO.getImageWritersByFormatName("png").next());

    private ImageCodec() {
    }

    /**
     * The bytes of an image file: only a regular file (a FIFO or a device such as /dev/zero would
     * block or never end) of at most {@link #MAX_FILE_BYTES}.
     */
    public static byte[] readFile(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            if (!Files.exists(file)) throw new NoSuchFileException(file.toString());
            throw new IOException(file + ": not a regular file (a folder, pipe or device), so it is not read");
        }
        long size = Files.size(file);
        if (size > MAX_FILE_BYTES) throw new IOException(file + ": " + size + " bytes, over the " + MAX_FILE_BYTES + " an image file may have");
        return Files.readAllBytes(file);
    }

    /** Fails, before anything is decoded, when the image's header declares more than {@link #MAX_PIXELS} pixels. */
    public static void checkSize(ImageReader reader) throws IOException {
        long w = reader.getWidth(0), h = reader.getHeight(0);
        if (w <= 0 || h <= 0 || w * h > MAX_PIXELS) {
            throw new IOException("the image declares " + w + "×" + h + " pixels, beyond the " + MAX_PIXELS + " an image may have");
        }
    }

    /** Decodes PNG/JPEG/whatever ImageIO knows; throws IOException with a reason when it cannot. */
    public static BufferedImage decode(byte[] bytes) throws IOException {
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) throw new IOException("not an image format this Java can read");
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                checkSize(reader);
                return reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (RuntimeException e) {
            // Some readers fail on truncated data with unchecked exceptions; it is still just a bad file.
            throw new IOException(e.toString(), e);
        } catch (IOException e) {
            // An EOFException has no message: say what it means.
            if (e.getMessage() == null) throw new IOException("the image data end early (" + e + ")", e);
            throw e;
        }
    }

    /** RGB in [0, 1] as {@code [3, h, w]} row-major; grey and palette images are expanded to RGB. */
    public static float[] toChw(BufferedImage img) {
        int w = img.getWidth(), h = img.getHeight(), hw = w * h;
        int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
        float[] out = new float[3 * hw];
        for (int p = 0; p < hw; p++) {
            int v = argb[p];
            out[p] = ((v >>> 16) & 255) / 255f;
            out[hw + p] = ((v >>> 8) & 255) / 255f;
            out[2 * hw + p] = (v & 255) / 255f;
        }
        return out;
    }

    /**
     * Label numbers of a Broden mask, row-major: red + 256·green of each pixel, as NetDissect reads
     * them. A single-channel (grey) mask, which NetDissect cannot read, is taken as its values.
     */
    public static int[] toLabels(BufferedImage img) {
        int w = img.getWidth(), h = img.getHeight();
        int[] out = new int[w * h];
        Raster r = img.getRaster();
        if (img.getColorModel() instanceof IndexColorModel) {
            int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
            for (int p = 0; p < out.length; p++) out[p] = ((argb[p] >>> 16) & 255) + 256 * ((argb[p] >>> 8) & 255);
        } else if (r.getNumBands() >= 3) {
            int[] red = r.getSamples(0, 0, w, h, 0, (int[]) null), green = r.getSamples(0, 0, w, h, 1, (int[]) null);
            for (int p = 0; p < out.length; p++) out[p] = red[p] + 256 * green[p];
        } else {
            r.getSamples(0, 0, w, h, 0, out);
        }
        return out;
    }

    /** A PNG of packed {@code 0xRRGGBB} pixels, bytes identical for identical pixels. */
    public static byte[] png(int[] rgb, int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
        img.setRGB(0, 0, w, h, rgb, 0, w);
        return png(img);
    }

    /** A PNG of an image, bytes identical for identical pixels. */
    public static byte[] png(BufferedImage img) {
        int w = img.getWidth(), h = img.getHeight();
        ImageWriter writer = PNG_WRITER.get();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(w * h + 1024);
        try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(out);
            ImageWriteParam param = writer.getDefaultWriteParam();
            // Quality 0.75 is a light deflate level: files barely larger than the default, encoding about 3× faster.
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(0.75f);
            writer.write(null, new IIOImage(img, null, null), param);
        } catch (IOException e) {
            throw new UncheckedIOException("encoding a PNG in memory failed: " + e.getMessage(), e);
        } finally {
            writer.setOutput(null);
        }
        return bytes.toByteArray();
    }

    /** Writes an image as a PNG file, atomically. */
    public static void writePng(Path file, BufferedImage img) throws IOException {
        AtomicFile.writeBytes(file, png(img));
    }

    /**
     * An image of {@code [c, h, w]} floats in [0, 1] starting at {@code offset} (one image of a
     * batch): grey for one channel, RGB for three; values are clamped and rounded to 8 bits.
     */
    public static BufferedImage fromChw(float[] v, int offset, int c, int h, int w) {
        if (c != 1 && c != 3) throw new IllegalArgumentException("an image needs 1 or 3 channels, got " + c);
        int hw = h * w;
        int[] rgb = new int[hw];
        for (int p = 0; p < hw; p++) {
            int r = byteOf(v[offset + p]);
            int g = c == 1 ? r : byteOf(v[offset + hw + p]), b = c == 1 ? r : byteOf(v[offset + 2 * hw + p]);
            rgb[p] = (r << 16) | (g << 8) | b;
        }
        BufferedImage img = new BufferedImage(w, h, c == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_3BYTE_BGR);
        if (c == 1) {
            for (int p = 0; p < hw; p++) img.getRaster().setSample(p % w, p / w, 0, rgb[p] & 255);
        } else {
            img.setRGB(0, 0, w, h, rgb, 0, w);
        }
        return img;
    }

    /** A value in [0, 1] as an 8-bit level (clamped, rounded). */
    public static int byteOf(float v) {
        return Math.round(Math.min(1f, Math.max(0f, v)) * 255f);
    }

    /** A Broden mask PNG: label = red + 256·green, blue unused. */
    public static byte[] maskPng(int[] labels, int w, int h) {
        int[] rgb = new int[labels.length];
        for (int p = 0; p < labels.length; p++) {
            int l = labels[p];
            if (l < 0 || l > 0xFFFF) throw new IllegalArgumentException("a mask label must be in 0..65535, got " + l);
            rgb[p] = ((l & 255) << 16) | ((l >>> 8) << 8);
        }
        return png(rgb, w, h);
    }
}
