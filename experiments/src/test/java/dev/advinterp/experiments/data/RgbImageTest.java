package dev.advinterp.experiments.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RgbImageTest {
    @TempDir
    Path dir;

    static void assertColour(RgbImage img, int x, int y, int r, int g, int b, int tolerance) {
        int[] got = {img.get(x, y, 0), img.get(x, y, 1), img.get(x, y, 2)};
        int[] want = {r, g, b};
        for (int c = 0; c < 3; c++) {
            assertTrue(Math.abs(got[c] - want[c]) <= tolerance, "pixel (" + x + "," + y + ") is " + java.util.Arrays.toString(got)
                    + ", expected " + java.util.Arrays.toString(want) + " ± " + tolerance);
        }
    }

    @Test
    void rgbJpegDecodesCloseToTheSource() throws IOException {
        BufferedImage src = TestImages.smooth(64, 48);
        RgbImage img = RgbImage.read(TestImages.jpeg(dir.resolve("a.JPEG"), src));
        assertEquals(64, img.width());
        assertEquals(48, img.height());
        for (int[] p : new int[][] {{0, 0}, {63, 0}, {0, 47}, {40, 20}, {63, 47}}) {
            int rgb = src.getRGB(p[0], p[1]);
            assertColour(img, p[0], p[1], rgb >> 16 & 0xff, rgb >> 8 & 0xff, rgb & 0xff, 12);
        }
    }

    @Test
    void pngIsLossless() throws IOException {
        BufferedImage src = TestImages.noise(13, 7, 3);
        Path f = dir.resolve("n.png");
        ImageIO.write(src, "png", f.toFile());
        RgbImage img = RgbImage.read(f);
        for (int y = 0; y < 7; y++) {
            for (int x = 0; x < 13; x++) {
                int rgb = src.getRGB(x, y);
                assertColour(img, x, y, rgb >> 16 & 0xff, rgb >> 8 & 0xff, rgb & 0xff, 0);
            }
        }
    }

    @Test
    void greyJpegIsReplicatedWithoutAGammaChange() throws IOException {
        // Java's linear grey colour space would turn 60 into about 136 through getRGB; PIL keeps 60.
        RgbImage img = RgbImage.read(TestImages.greyJpeg(dir.resolve("g.jpg"), 16, 16, 60));
        for (int c = 0; c < 3; c++) assertTrue(Math.abs(img.get(8, 8, c) - 60) <= 2, "channel " + c + " is " + img.get(8, 8, c));
    }

    @Test
    void anEmbeddedColourProfileIsNotApplied() throws IOException {
        // PIL passes RGB values through whatever the profile; a linear-light profile applied would change them a lot.
        BufferedImage src = TestImages.rgb(32, 32, (x, y) -> 60 << 16 | 120 << 8 | 200);
        Path f = TestImages.jpegWithProfile(dir.resolve("linear.jpg"), src,
                java.awt.color.ICC_Profile.getInstance(java.awt.color.ColorSpace.CS_LINEAR_RGB));
        assertTrue(new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1).contains("ICC_PROFILE"), "no profile written");
        assertColour(RgbImage.read(f), 5, 5, 60, 120, 200, 3);
    }

    @Test
    void cmykJpegBecomesRgb() throws IOException {
        // Pure cyan ink, then pure magenta: the reader's CMYK conversion need not be exact, but the hue must be right.
        RgbImage cyan = RgbImage.read(TestImages.adobeJpeg(dir.resolve("cyan.jpg"), 24, 16, new int[] {255, 0, 0, 0}, false));
        assertTrue(cyan.get(5, 5, 0) < 60 && cyan.get(5, 5, 1) > 150 && cyan.get(5, 5, 2) > 200, rgbOf(cyan));
        RgbImage magenta = RgbImage.read(TestImages.adobeJpeg(dir.resolve("magenta.jpg"), 24, 16, new int[] {0, 255, 0, 0}, false));
        assertTrue(magenta.get(5, 5, 0) > 200 && magenta.get(5, 5, 1) < 60 && magenta.get(5, 5, 2) > 100, rgbOf(magenta));
        RgbImage black = RgbImage.read(TestImages.adobeJpeg(dir.resolve("black.jpg"), 24, 16, new int[] {0, 0, 0, 255}, false));
        assertTrue(black.get(5, 5, 0) < 60 && black.get(5, 5, 1) < 60 && black.get(5, 5, 2) < 60, rgbOf(black));
    }

    @Test
    void ycckJpegBecomesRgb() throws IOException {
        RgbImage cyan = RgbImage.read(TestImages.adobeJpeg(dir.resolve("ycck.jpg"), 24, 16, new int[] {255, 0, 0, 0}, true));
        assertTrue(cyan.get(5, 5, 0) < 60 && cyan.get(5, 5, 1) > 150 && cyan.get(5, 5, 2) > 200, rgbOf(cyan));
        RgbImage white = RgbImage.read(TestImages.adobeJpeg(dir.resolve("ycck-white.jpg"), 24, 16, new int[] {0, 0, 0, 0}, true));
        assertTrue(white.get(5, 5, 0) > 220 && white.get(5, 5, 1) > 220 && white.get(5, 5, 2) > 220, rgbOf(white));
    }

    private static String rgbOf(RgbImage img) {
        return "decoded as (" + img.get(5, 5, 0) + ", " + img.get(5, 5, 1) + ", " + img.get(5, 5, 2) + ")";
    }

    @Test
    void truncatedJpegsAreErrorsNamingTheFile() throws IOException {
        Path whole = TestImages.jpeg(dir.resolve("whole.JPEG"), TestImages.noise(120, 90, 1));
        for (double fraction : new double[] {0.95, 0.6, 0.1}) {
            Path cut = TestImages.truncated(whole, dir.resolve("cut-" + fraction + ".JPEG"), fraction);
            IOException e = assertThrows(IOException.class, () -> RgbImage.read(cut), "a file cut to " + fraction);
            assertTrue(e.getMessage().startsWith(cut.toString()), e.getMessage());
        }
        // A file complete but for its end-of-image marker has all its pixels: readers accept it, and so does this.
        Path noEoi = dir.resolve("no-eoi.JPEG");
        byte[] all = Files.readAllBytes(whole);
        Files.write(noEoi, java.util.Arrays.copyOf(all, all.length - 2));
        assertEquals(120, RgbImage.read(noEoi).width());
    }

    @Test
    void junkEmptyAndMissingFilesAreErrorsNamingTheFile() throws IOException {
        Path junk = Files.writeString(dir.resolve("junk.JPEG"), "<html>404</html>");
        IOException e = assertThrows(IOException.class, () -> RgbImage.read(junk));
        assertTrue(e.getMessage().contains(junk.toString()) && e.getMessage().contains("not an image"), e.getMessage());
        Path empty = Files.write(dir.resolve("empty.JPEG"), new byte[0]);
        assertTrue(assertThrows(IOException.class, () -> RgbImage.read(empty)).getMessage().contains(empty.toString()));
        Path missing = dir.resolve("missing.JPEG");
        assertTrue(assertThrows(NoSuchFileException.class, () -> RgbImage.read(missing)).getMessage().contains(missing.toString()));
        // A valid header followed by garbage.
        byte[] bytes = Files.readAllBytes(TestImages.jpeg(dir.resolve("ok.JPEG"), TestImages.noise(64, 64, 2)));
        for (int i = 700; i < bytes.length - 2; i++) bytes[i] = (byte) (i * 37);
        Path garbled = Files.write(dir.resolve("garbled.JPEG"), bytes);
        try {
            RgbImage.read(garbled);
        } catch (IOException expected) {
            assertTrue(expected.getMessage().startsWith(garbled.toString()), expected.getMessage());
        }
    }

    @Test
    void badDimensionsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new RgbImage(new byte[11], 2, 2));
        assertThrows(IllegalArgumentException.class, () -> new RgbImage(new byte[0], 0, 5));
    }

    /** A PNG whose header claims {@code w}×{@code h} pixels, with a single tiny compressed row after it: 74 bytes or so. */
    static byte[] pngClaiming(int w, int h) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.write(new byte[]{(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10});
        java.nio.ByteBuffer ihdr = java.nio.ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        chunk(out, "IHDR", ihdr.array());
        java.io.ByteArrayOutputStream z = new java.io.ByteArrayOutputStream();
        try (var d = new java.util.zip.DeflaterOutputStream(z)) {
            d.write(new byte[16]);
        }
        chunk(out, "IDAT", z.toByteArray());
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(java.io.ByteArrayOutputStream out, String type, byte[] data) throws IOException {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(type.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        crc.update(data);
        out.write(java.nio.ByteBuffer.allocate(4).putInt(data.length).array());
        out.write(type.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        out.write(data);
        out.write(java.nio.ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    @Test
    void aTinyFileClaimingAHugeImageIsRefusedBeforeDecoding(@TempDir Path dir) throws IOException {
        Path f = Files.write(dir.resolve("huge.png"), pngClaiming(26_000, 26_000));
        assertTrue(Files.size(f) < 100, Files.size(f) + " bytes");
        long before = allocated();
        IOException e = assertThrows(IOException.class, () -> RgbImage.read(f));
        assertTrue(e.getMessage().contains("26000×26000") && e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(allocated() - before < 64L << 20, "refused from the header: " + (allocated() - before) + " bytes allocated");
        e = assertThrows(IOException.class, () -> dev.advinterp.experiments.io.ImageCodec.decode(Files.readAllBytes(f)));
        assertTrue(e.getMessage().contains("26000×26000"), e.getMessage());
    }

    @Test
    void onlyRegularFilesAreRead(@TempDir Path dir) throws Exception {
        Path devZero = Path.of("/dev/zero");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(devZero), "no /dev/zero here");
        IOException e = assertThrows(IOException.class, () -> RgbImage.read(devZero));
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
        Path fifo = dir.resolve("pipe.jpg");
        Process p = new ProcessBuilder("mkfifo", fifo.toString()).start();
        org.junit.jupiter.api.Assumptions.assumeTrue(p.waitFor() == 0, "mkfifo failed");
        e = assertThrows(IOException.class, () -> RgbImage.read(fifo), "a FIFO nobody writes to must not block the read");
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
        e = assertThrows(IOException.class, () -> RgbImage.read(dir));
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
    }

    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }
}
