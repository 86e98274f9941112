package dev.advinterp.experiments.data;

import dev.advinterp.experiments.io.ImageCodec;

import java.awt.image.BufferedImage;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * An 8-bit RGB image, its pixels interleaved row by row ({@code pixels[3 * (y * width + x) + c]}).
 *
 * <p>{@link #read} decodes through ImageIO, where the TwelveMonkeys JPEG plugin comes first: it
 * reads the CMYK and YCCK JPEGs that ImageNet holds (the JDK's reader rejects them) and converts
 * them to RGB. Grey images are replicated into the three channels, as PIL's {@code convert("RGB")}
 * does, rather than passed through Java's linear-grey colour space, which would brighten them.
 */
public record RgbImage(byte[] pixels, int width, int height) {
    static {
        // Plugins on the class path of a non-system loader (a test runner, a shaded jar) register only when scanned.
        ImageIO.scanForPlugins();
    }

    public RgbImage {
        if (width <= 0 || height <= 0 || pixels.length != 3L * width * height) {
            throw new IllegalArgumentException("an RGB image of " + width + "×" + height + " needs " + (3L * width * height)
                    + " bytes, got " + pixels.length);
        }
    }

    /** The channel {@code c} (0 red, 1 green, 2 blue) of pixel (x, y), 0–255. */
    public int get(int x, int y, int c) {
        return pixels[3 * (y * width + x) + c] & 0xff;
    }

    /**
     * Decodes {@code file} (JPEG, PNG, or another format ImageIO reads). A file that is not an
     * image, or whose data ends early, is an {@link IOException} naming the file; a decoder that
     * only warns about missing data (a truncated JPEG decodes to a grey lower part) counts as that.
     */
    public static RgbImage read(Path file) throws IOException {
        byte[] bytes = ImageCodec.readFile(file);
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) throw new IOException(file + ": not an image that ImageIO can read (" + bytes.length + " bytes)");
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                ImageCodec.checkSize(reader);
                StringBuilder missingData = new StringBuilder();
                reader.addIIOReadWarningListener((source, warning) -> {
                    String w = warning.toLowerCase(Locale.ROOT);
                    if (w.contains("premature end") || w.contains("truncated") && !w.contains("missing eoi")) {
                        missingData.append(missingData.isEmpty() ? "" : "; ").append(warning);
                    }
                });
                BufferedImage image = reader.read(0);
                if (!missingData.isEmpty()) throw new IOException(file + ": the image data end early (" + missingData + "); the file is truncated");
                return of(image);
            } catch (IOException e) {
                if (e.getMessage() != null && e.getMessage().startsWith(file.toString())) throw e;
                throw new IOException(file + ": cannot decode (" + (e.getMessage() == null ? e : e.getMessage()) + ")", e);
            } catch (RuntimeException e) {
                // Decoders throw unchecked exceptions on some corrupt streams (array bounds, bad Huffman tables).
                throw new IOException(file + ": cannot decode (" + e + ")", e);
            } finally {
                reader.dispose();
            }
        }
    }

    /** The RGB pixels of {@code image}, whatever its type. */
    public static RgbImage of(BufferedImage image) {
        int w = image.getWidth(), h = image.getHeight();
        byte[] out = new byte[3 * w * h];
        Raster raster = image.getRaster();
        int type = image.getColorModel().getColorSpace().getType();
        if (raster.getDataBuffer() instanceof DataBufferByte buffer && raster.getSampleModel() instanceof ComponentSampleModel sm
                && buffer.getNumBanks() == 1 && !image.getColorModel().hasAlpha()
                && (type == java.awt.color.ColorSpace.TYPE_RGB && raster.getNumBands() == 3 || type == java.awt.color.ColorSpace.TYPE_GRAY && raster.getNumBands() == 1)) {
            // The decoders' usual outputs (3-byte BGR, 8-bit grey): copy the bytes straight from the raster.
            byte[] data = buffer.getData();
            int pixelStride = sm.getPixelStride(), rowStride = sm.getScanlineStride();
            int x0 = -raster.getSampleModelTranslateX(), y0 = -raster.getSampleModelTranslateY();
            int base = buffer.getOffset() + y0 * rowStride + x0 * pixelStride;
            int[] bands = sm.getBandOffsets();
            int[] offsets = raster.getNumBands() == 3 ? new int[] {bands[0], bands[1], bands[2]} : new int[] {bands[0], bands[0], bands[0]};
            for (int y = 0, o = 0; y < h; y++) {
                int row = base + y * rowStride;
                for (int x = 0; x < w; x++, o += 3) {
                    int p = row + x * pixelStride;
                    out[o] = data[p + offsets[0]];
                    out[o + 1] = data[p + offsets[1]];
                    out[o + 2] = data[p + offsets[2]];
                }
            }
        } else {
            int[] argb = image.getRGB(0, 0, w, h, null, 0, w);
            for (int i = 0; i < argb.length; i++) {
                out[3 * i] = (byte) (argb[i] >> 16);
                out[3 * i + 1] = (byte) (argb[i] >> 8);
                out[3 * i + 2] = (byte) argb[i];
            }
        }
        return new RgbImage(out, w, h);
    }
}
