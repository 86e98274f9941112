package dev.advinterp.experiments.data;

import org.w3c.dom.Node;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;
import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.IntBinaryOperator;

/** Small images for the tests, written with ImageIO. */
final class TestImages {
    private TestImages() {
    }

    /** A {@code w}×{@code h} RGB image whose pixel (x, y) is {@code rgb.applyAsInt(x, y)} (0xRRGGBB). */
    static BufferedImage rgb(int w, int h, IntBinaryOperator rgb) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, rgb.applyAsInt(x, y));
        return img;
    }

    /** Smooth colours, which JPEG keeps within a few grey levels. */
    static BufferedImage smooth(int w, int h) {
        return rgb(w, h, (x, y) -> (x * 255 / Math.max(1, w - 1)) << 16 | (y * 255 / Math.max(1, h - 1)) << 8 | 100);
    }

    static BufferedImage noise(int w, int h, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return rgb(w, h, (x, y) -> r.nextInt(1 << 24));
    }

    static Path jpeg(Path file, BufferedImage image) throws IOException {
        if (!ImageIO.write(image, "jpeg", file.toFile())) throw new IOException("no JPEG writer");
        return file;
    }

    /** An 8-bit grey JPEG of constant {@code value}. */
    static Path greyJpeg(Path file, int w, int h, int value) throws IOException {
        BufferedImage g = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) g.getRaster().setSample(x, y, 0, value);
        return jpeg(file, g);
    }

    /**
     * A four-component JPEG of one colour, as Photoshop writes them: an Adobe APP14 marker with
     * transform 0 (CMYK) or 2 (YCCK), and the ink values stored inverted. For YCCK the colour
     * conversion is done here, since the writer stores the raster as given: libjpeg turns YCC back
     * into R, G, B and stores 255 minus them, so the YCC are those of the inks C, M, Y taken as RGB.
     */
    static Path adobeJpeg(Path file, int w, int h, int[] cmyk, boolean ycck) throws IOException {
        int[] stored = new int[4];
        for (int i = 0; i < 4; i++) stored[i] = 255 - cmyk[i];
        if (ycck) {
            double r = cmyk[0], g = cmyk[1], b = cmyk[2];
            stored[0] = (int) Math.round(0.299 * r + 0.587 * g + 0.114 * b);
            stored[1] = (int) Math.round(128 - 0.168736 * r - 0.331264 * g + 0.5 * b);
            stored[2] = (int) Math.round(128 + 0.5 * r - 0.418688 * g - 0.081312 * b);
            for (int i = 0; i < 3; i++) stored[i] = Math.clamp(stored[i], 0, 255);
        }
        WritableRaster raster = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, w, h, 4, null);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) raster.setPixel(x, y, stored);

        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        try {
            ImageWriteParam param = writer.getDefaultWriteParam();
            IIOMetadata metadata = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(
                    new BufferedImage(1, 1, BufferedImage.TYPE_3BYTE_BGR)), param);
            String format = "javax_imageio_jpeg_image_1.0";
            IIOMetadataNode root = (IIOMetadataNode) metadata.getAsTree(format);
            Node jfif = root.getElementsByTagName("app0JFIF").item(0);
            if (jfif != null) jfif.getParentNode().removeChild(jfif);
            IIOMetadataNode adobe = new IIOMetadataNode("app14Adobe");
            adobe.setAttribute("version", "101");
            adobe.setAttribute("flags0", "0");
            adobe.setAttribute("flags1", "0");
            adobe.setAttribute("transform", ycck ? "2" : "0");
            root.getElementsByTagName("markerSequence").item(0).appendChild(adobe);
            IIOMetadataNode sof = (IIOMetadataNode) root.getElementsByTagName("sof").item(0);
            IIOMetadataNode sos = (IIOMetadataNode) root.getElementsByTagName("sos").item(0);
            IIOMetadataNode component = new IIOMetadataNode("componentSpec");
            component.setAttribute("componentId", "4");
            component.setAttribute("QtableSelector", "1");
            sof.appendChild(component);
            for (int i = 0; i < sof.getChildNodes().getLength(); i++) {
                IIOMetadataNode c = (IIOMetadataNode) sof.getChildNodes().item(i);
                c.setAttribute("HsamplingFactor", "1");
                c.setAttribute("VsamplingFactor", "1");
            }
            sof.setAttribute("numFrameComponents", "4");
            IIOMetadataNode scan = new IIOMetadataNode("scanComponentSpec");
            scan.setAttribute("componentSelector", "4");
            scan.setAttribute("dcHuffTable", "1");
            scan.setAttribute("acHuffTable", "1");
            sos.appendChild(scan);
            sos.setAttribute("numScanComponents", "4");
            metadata.setFromTree(format, root);
            try (ImageOutputStream out = ImageIO.createImageOutputStream(file.toFile())) {
                writer.setOutput(out);
                writer.write(null, new IIOImage(raster, null, metadata), param);
            }
        } finally {
            writer.dispose();
        }
        return file;
    }

    /** A JPEG of {@code image} that carries {@code profile} in an APP2 ICC marker, written by the JDK's writer. */
    static Path jpegWithProfile(Path file, BufferedImage image, java.awt.color.ICC_Profile profile) throws IOException {
        ImageWriter writer = null;
        for (var it = ImageIO.getImageWritersByFormatName("jpeg"); it.hasNext(); ) {
            ImageWriter w = it.next();
            if (w.getClass().getName().startsWith("com.sun.")) writer = w;
        }
        if (writer == null) throw new IOException("the JDK's JPEG writer is not registered");
        try {
            ImageWriteParam param = writer.getDefaultWriteParam();
            IIOMetadata metadata = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(image), param);
            String format = "javax_imageio_jpeg_image_1.0";
            IIOMetadataNode root = (IIOMetadataNode) metadata.getAsTree(format);
            IIOMetadataNode icc = new IIOMetadataNode("app2ICC");
            icc.setUserObject(profile);
            root.getElementsByTagName("app0JFIF").item(0).appendChild(icc);
            metadata.setFromTree(format, root);
            try (ImageOutputStream out = ImageIO.createImageOutputStream(file.toFile())) {
                writer.setOutput(out);
                writer.write(null, new IIOImage(image, null, metadata), param);
            }
        } finally {
            writer.dispose();
        }
        return file;
    }

    /** The first {@code fraction} of {@code source}'s bytes, as a truncated download leaves them. */
    static Path truncated(Path source, Path file, double fraction) throws IOException {
        byte[] all = Files.readAllBytes(source);
        Files.write(file, Arrays.copyOf(all, (int) (all.length * fraction)));
        return file;
    }
}
