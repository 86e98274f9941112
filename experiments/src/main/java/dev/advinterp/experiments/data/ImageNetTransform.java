package dev.advinterp.experiments.data;

import java.util.SplittableRandom;

/**
 * The preprocessing of torchvision's ImageNet recipe, producing channel-major floats in [0, 1]
 * ({@code [3, crop, crop]}); the normalisation by the dataset's mean and deviation is the
 * model's first layer, not done here.
 *
 * <ul>
 *   <li>evaluation: {@code Resize(resize)} (the shorter side to {@code resize}, the longer one in
 *       proportion, truncated) then {@code CenterCrop(crop)};</li>
 *   <li>training: {@code RandomResizedCrop(crop, scale=(0.08, 1), ratio=(3/4, 4/3))} then
 *       {@code RandomHorizontalFlip()}, every draw from the generator passed in.</li>
 * </ul>
 * Resampling is bilinear and antialiased ({@link Resampler}), as PIL's is.
 *
 * @param resize the shorter side before the evaluation crop (256)
 * @param crop   the side of the output (224)
 */
public record ImageNetTransform(int resize, int crop) {
    /** torchvision's sizes: 256, then 224. */
    public static final ImageNetTransform STANDARD = new ImageNetTransform(256, 224);

    static final double MIN_SCALE = 0.08, MAX_SCALE = 1.0, MIN_RATIO = 3.0 / 4.0, MAX_RATIO = 4.0 / 3.0;

    public ImageNetTransform {
        if (crop <= 0 || resize < crop) throw new IllegalArgumentException("need 0 < crop <= resize, got resize " + resize + ", crop " + crop);
    }

    /**
     * The same recipe for a model taking {@code size}×{@code size} images: torchvision's 256/224 at
     * 224, and otherwise the resize in the same proportion, {@code round(size · 256 / 224)} (32 px:
     * resize 37, crop 32; 64 px: 73, 64).
     */
    public static ImageNetTransform forSize(int size) {
        if (size == 224) return STANDARD;
        return new ImageNetTransform((int) Math.round(size * 256.0 / 224.0), size);
    }

    /** A region of an image, in pixels. */
    record Box(int left, int top, int width, int height) {
    }

    /** The size {@code Resize(resize)} gives a {@code width}×{@code height} image: {width, height}. */
    int[] resizedSize(int width, int height) {
        boolean portrait = width <= height;
        int shortSide = portrait ? width : height, longSide = portrait ? height : width;
        // torchvision: int(size * long / short), a float division truncated.
        int newLong = (int) ((double) ((long) resize * longSide) / shortSide);
        return portrait ? new int[] {resize, newLong} : new int[] {newLong, resize};
    }

    /** Where {@code CenterCrop(crop)} cuts a {@code width}×{@code height} image: Python's round, half to even. */
    Box centerCrop(int width, int height) {
        return new Box((int) Math.rint((width - crop) / 2.0), (int) Math.rint((height - crop) / 2.0), crop, crop);
    }

    /** Evaluation: the shorter side to {@code resize}, then the centre {@code crop}×{@code crop}. */
    public float[] evaluation(RgbImage image) {
        int[] size = resizedSize(image.width(), image.height());
        Box box = centerCrop(size[0], size[1]);
        // Only the cropped part of the resized image is computed; the weights are those of the whole resize.
        Resampler.Axis xs = Resampler.Axis.of(0, image.width(), size[0], box.left(), crop);
        Resampler.Axis ys = Resampler.Axis.of(0, image.height(), size[1], box.top(), crop);
        return Resampler.resample(image, xs, ys);
    }

    /** Training: a random crop of 8–100 % of the area and aspect 3/4–4/3, scaled to {@code crop}², mirrored half the time. */
    public float[] training(RgbImage image, SplittableRandom random) {
        Box box = randomResizedCropBox(image.width(), image.height(), random);
        Resampler.Axis xs = Resampler.Axis.of(box.left(), box.width(), crop, 0, crop);
        Resampler.Axis ys = Resampler.Axis.of(box.top(), box.height(), crop, 0, crop);
        if (random.nextBoolean()) xs = xs.reversed();
        return Resampler.resample(image, xs, ys);
    }

    /**
     * torchvision's {@code RandomResizedCrop.get_params}: ten tries at an area fraction uniform in
     * [0.08, 1] and an aspect ratio log-uniform in [3/4, 4/3]; the first that fits is placed
     * uniformly; if none fits, the largest centred box whose aspect is clamped into the range.
     */
    static Box randomResizedCropBox(int width, int height, SplittableRandom random) {
        double area = (double) width * height, logMin = Math.log(MIN_RATIO), logMax = Math.log(MAX_RATIO);
        for (int attempt = 0; attempt < 10; attempt++) {
            double target = area * (MIN_SCALE + random.nextDouble() * (MAX_SCALE - MIN_SCALE));
            double aspect = Math.exp(logMin + random.nextDouble() * (logMax - logMin));
            int w = (int) Math.rint(Math.sqrt(target * aspect)), h = (int) Math.rint(Math.sqrt(target / aspect));
            if (0 < w && w <= width && 0 < h && h <= height) {
                int top = random.nextInt(height - h + 1), left = random.nextInt(width - w + 1);
                return new Box(left, top, w, h);
            }
        }
        double ratio = (double) width / height;
        int w, h;
        if (ratio < MIN_RATIO) {
            w = width;
            h = (int) Math.rint(w / MIN_RATIO);
        } else if (ratio > MAX_RATIO) {
            h = height;
            w = (int) Math.rint(h * MAX_RATIO);
        } else {
            w = width;
            h = height;
        }
        return new Box((width - w) / 2, (height - h) / 2, w, h);
    }
}
