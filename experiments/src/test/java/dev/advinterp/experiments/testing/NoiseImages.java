package dev.advinterp.experiments.testing;

import dev.advinterp.experiments.data.Dataset;
import dev.advinterp.experiments.data.Sample;

import java.util.List;
import java.util.SplittableRandom;

/** A dataset of seeded grey noise images, image i labelled i mod 4, its classes four WordNet synsets. */
public record NoiseImages(int size, int side) implements Dataset {
    public static final List<String> WNIDS = List.of("n02123045", "n02123159", "n01440764", "n04552348");

    /** 40 images of 28×28, what TinyNet takes. */
    public static NoiseImages standard() {
        return new NoiseImages(40, 28);
    }

    public String name() {
        return "noise";
    }

    public List<String> classes() {
        return WNIDS;
    }

    public int channels() {
        return 1;
    }

    public int height() {
        return side;
    }

    public int width() {
        return side;
    }

    public Sample get(int index, SplittableRandom random) {
        if (index < 0 || index >= size) throw new IndexOutOfBoundsException(index);
        SplittableRandom r = new SplittableRandom(1000 + index);
        float[] v = new float[side * side];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextDouble();
        return new Sample(v, index % 4, 1, side, side);
    }
}
