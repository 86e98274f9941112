package dev.advinterp.engine.backend;

/**
 * The dropout mask as a pure function of (seed, element index): a SplitMix64 finaliser of
 * {@code seed ⊕ index·φ}, whose top 24 bits are compared with {@code p·2²⁴}. Every backend
 * computes the same mask, in any order and on any number of threads.
 */
public final class DropoutMask {
    private DropoutMask() {
    }

    public static boolean keep(long seed, long index, float p) {
        long z = seed + (index + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        int r24 = (int) (z >>> 40);
        return r24 >= (int) (p * (1 << 24));
    }
}
