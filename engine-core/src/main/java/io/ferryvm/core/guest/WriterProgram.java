package io.ferryvm.core.guest;

import io.ferryvm.core.machine.GuestContext;
import io.ferryvm.core.machine.GuestProgram;

/**
 * hotset and random: one 8-byte write per step to a page of the slice, chosen by Zipf rank (hotset) or
 * uniformly (random), at a random aligned offset, with a random value.
 * Registers: r0 = generator state, r1 = writes done.
 */
final class WriterProgram implements GuestProgram {
    /** Odd prime above MAX_RANKS: rank * P mod buckets scatters hot ranks over the working set. */
    private static final long SCATTER = 2654435761L;

    private final String name;
    private final Slice slice;
    private final ZipfTable zipf; // null: uniform
    private final long seed;
    private final double stepsPerSecond;

    WriterProgram(String name, Slice slice, ZipfTable zipf, long seed, double dirtyRateMiBps) {
        this.name = name;
        this.slice = slice;
        this.zipf = zipf;
        this.seed = seed;
        this.stepsPerSecond = dirtyRateMiBps * 256;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void reset(long[] regs) {
        java.util.Arrays.fill(regs, 0L);
        regs[0] = seed;
    }

    @Override
    public double stepsPerSecond() {
        return stepsPerSecond;
    }

    @Override
    public long run(GuestContext ctx, long[] regs, long maxSteps) {
        long pages = slice.pages();
        if (pages == 0) {
            return 0;
        }
        long state = regs[0];
        for (long s = 0; s < maxSteps; s++) {
            state += SplitMix.GOLDEN;
            long z = SplitMix.mix(state);
            long page;
            if (zipf == null) {
                page = Long.remainderUnsigned(z, pages);
            } else {
                long buckets = zipf.size();
                long bucket = (zipf.sample(z) * SCATTER) % buckets;
                long width = pages / buckets;
                page = bucket * width + ((z >>> 40) % width);
            }
            long addr = slice.address(page) + ((z & 511) << 3);
            ctx.putLong(addr, SplitMix.mix(z));
        }
        regs[0] = state;
        regs[1] += maxSteps;
        return maxSteps;
    }
}
