package io.ferryvm.core.guest;

import io.ferryvm.core.machine.GuestContext;
import io.ferryvm.core.machine.GuestProgram;

/**
 * pagewalk: increments byte 0 of each page of its slice in ascending order, pass after pass.
 * Registers: r0 = index of the next page to increment, r1 = completed passes. See {@link PageWalkCheck}
 * for the invariant this keeps.
 */
final class PageWalkProgram implements GuestProgram {
    static final byte PASS_MARK = 'B';

    private final Slice slice;
    private final double stepsPerSecond;

    PageWalkProgram(Slice slice, double dirtyRateMiBps) {
        this.slice = slice;
        this.stepsPerSecond = dirtyRateMiBps * 256;
    }

    @Override
    public String name() {
        return "pagewalk";
    }

    @Override
    public void reset(long[] regs) {
        java.util.Arrays.fill(regs, 0L);
    }

    @Override
    public double stepsPerSecond() {
        return stepsPerSecond;
    }

    @Override
    public long run(GuestContext ctx, long[] regs, long maxSteps) {
        long n = slice.pages();
        if (n == 0) {
            return 0;
        }
        long base = slice.firstPage() << 12;
        long i = regs[0];
        long pass = regs[1];
        for (long s = 0; s < maxSteps; s++) {
            ctx.incrementByte(base + (i << 12));
            if (++i == n) {
                i = 0;
                pass++;
                if ((pass & 63) == 0) {
                    ctx.serialOut(PASS_MARK);
                }
            }
        }
        regs[0] = i;
        regs[1] = pass;
        return maxSteps;
    }
}
