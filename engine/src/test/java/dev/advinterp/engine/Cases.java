package dev.advinterp.engine;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Cases for the property tests: a fixed number of random cases drawn from a fixed seed, for a
 * {@code @ParameterizedTest} with a {@code @MethodSource}. The same seed gives the same cases on
 * every run, and each case's parameters (its record's fields, the data seed among them) are its
 * test's name, which is all it takes to rerun a failure.
 *
 * <p>Ranges are drawn uniformly, except that a range's ends (and 0 for a float range around it) are
 * drawn more often, so that the smallest and largest shapes and the zero step sizes come up in every
 * property, not only by chance.
 */
final class Cases {
    private Cases() {
    }

    /** {@code tries} cases from {@code gen}, drawn in order from one generator seeded with {@code seed}. */
    static <T> Stream<T> draw(long seed, int tries, Function<Draw, T> gen) {
        Draw d = new Draw(new SplittableRandom(seed));
        List<T> cases = IntStream.range(0, tries).mapToObj(i -> gen.apply(d)).toList();
        return cases.stream();
    }

    /** The draws a case is made of. */
    static final class Draw {
        private final SplittableRandom r;

        private Draw(SplittableRandom r) {
            this.r = r;
        }

        /** In [min, max], either end one time in four. */
        int between(int min, int max) {
            int u = r.nextInt(8);
            if (u == 0) return min;
            if (u == 1) return max;
            return r.nextInt(min, max + 1);
        }

        /**
         * In [min, max] with {@code scale} decimal places, an end (or 0 where the range holds it) one
         * time in four.
         */
        float between(float min, float max, int scale) {
            if (r.nextInt(4) == 0) {
                boolean zero = min < 0 && max > 0;
                int e = r.nextInt(zero ? 3 : 2);
                return e == 0 ? min : e == 1 ? max : 0f;
            }
            double v = min + (max - (double) min) * r.nextDouble();
            float rounded = new BigDecimal(v).setScale(scale, RoundingMode.HALF_EVEN).floatValue();
            return Math.min(max, Math.max(min, rounded));
        }

        /** In [min, max] with two decimal places. */
        float between(float min, float max) {
            return between(min, max, 2);
        }

        boolean bool() {
            return r.nextBoolean();
        }

        /** A seed for the case's data. */
        long seed() {
            return r.nextLong();
        }
    }
}
