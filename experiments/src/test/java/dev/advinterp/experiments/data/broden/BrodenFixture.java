package dev.advinterp.experiments.data.broden;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A small Broden folder written by hand (with ImageIO directly, not the code under test): two
 * images of 4×6, masks of 2×3, a label above 255 so the green channel matters, a label in two
 * categories, an image with two whole-image scene labels, a JPEG in a subfolder, and a quoted name.
 */
final class BrodenFixture {
    static final int BUS = 300;

    private BrodenFixture() {
    }

    static Path write(Path dir) throws IOException {
        Files.createDirectories(dir.resolve("images/sub"));
        text(dir, "index.csv", """
                image,split,ih,iw,sh,sw,color,object,material,part,scene,texture
                a.png,train,4,6,2,3,a_color.png,a_object.png;a_object2.png,,,7,
                sub/b.jpg,val,4,6,2,3,,b_object.png,,,7;8,9
                """);
        text(dir, "category.csv", """
                name,first,last,count,frequency
                color,1,2,2,1
                object,3,300,3,2
                scene,7,8,2,2
                texture,9,9,1,1
                """);
        text(dir, "label.csv", """
                number,name,category,frequency,coverage,syns
                1,red,color(1),1,0.5,red;crimson
                2,blue,color(1),1,0.5,
                3,car,object(2),2,0.4,
                4,wheel,object(1);part(1),1,0.1,
                300,"bus, school",object(1),1,0.2,
                7,beach,scene(2),2,2.0,
                8,street,scene(1),1,1.0,
                9,striped,texture(1),1,1.0,
                """);
        text(dir, "c_color.csv", "code,number,name,frequency,coverage\n1,1,red,1,0.5\n2,2,blue,1,0.5\n");
        text(dir, "c_object.csv", "code,number,name,frequency,coverage\n1,3,car,2,0.4\n2,4,wheel,1,0.1\n3,300,\"bus, school\",1,0.2\n");
        text(dir, "c_scene.csv", "code,number,name,frequency,coverage\n1,7,beach,2,2.0\n2,8,street,1,1.0\n");
        text(dir, "c_texture.csv", "code,number,name,frequency,coverage\n1,9,striped,1,1.0\n");
        image(dir.resolve("images/a.png"), "png", imageA());
        image(dir.resolve("images/sub/b.jpg"), "jpg", flat(0x808080));
        mask(dir.resolve("images/a_color.png"), new int[]{1, 1, 2, 2, 0, 1});
        mask(dir.resolve("images/a_object.png"), new int[]{3, 3, 0, BUS, BUS, 0});
        mask(dir.resolve("images/a_object2.png"), new int[]{0, 4, 0, 0, 0, 0});
        mask(dir.resolve("images/b_object.png"), new int[]{3, 3, 3, 3, 3, 3});
        return dir;
    }

    /** Adds the class tables: a → class 1, b → class 0. */
    static void withClasses(Path dir) throws IOException {
        text(dir, "classes.csv", "class,wnid,name\n0,n02085620,Chihuahua\n1,n04146614,school bus\n");
        text(dir, "image_class.csv", "image,class\nsub/b.jpg,0\na.png,1\n");
    }

    static void text(Path dir, String name, String content) throws IOException {
        Files.writeString(dir.resolve(name), content);
    }

    /** Pixel (y, x) of image a: red = 10·x, green = 40·y, blue = 200. */
    static int[] imageA() {
        int[] rgb = new int[4 * 6];
        for (int y = 0; y < 4; y++) for (int x = 0; x < 6; x++) rgb[y * 6 + x] = (10 * x << 16) | (40 * y << 8) | 200;
        return rgb;
    }

    static int[] flat(int rgb) {
        int[] out = new int[4 * 6];
        java.util.Arrays.fill(out, rgb);
        return out;
    }

    static void image(Path file, String format, int[] rgb) throws IOException {
        BufferedImage img = new BufferedImage(6, 4, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, 6, 4, rgb, 0, 6);
        if (!ImageIO.write(img, format, file.toFile())) throw new IOException("no " + format + " writer");
    }

    /** A 3×2 mask: label = red + 256·green. */
    static void mask(Path file, int[] labels) throws IOException {
        BufferedImage img = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
        for (int p = 0; p < 6; p++) img.setRGB(p % 3, p / 3, ((labels[p] & 255) << 16) | ((labels[p] >> 8) << 8) | 77);
        ImageIO.write(img, "png", file.toFile());
    }
}
