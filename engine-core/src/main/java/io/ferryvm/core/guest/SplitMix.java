package io.ferryvm.core.guest;

/** SplitMix64: a fixed, portable generator whose whole state is one long (one register). */
final class SplitMix {
    static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private SplitMix() {}

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Seed for vCPU i of a program: distinct streams that depend only on (seed, i). */
    static long seedFor(long seed, int vcpu) {
        return mix(seed ^ mix(GOLDEN * (vcpu + 1L)));
    }
}
