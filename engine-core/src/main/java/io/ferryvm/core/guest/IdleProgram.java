package io.ferryvm.core.guest;

import io.ferryvm.core.machine.GuestContext;
import io.ferryvm.core.machine.GuestProgram;

/** idle: halted from the start; memory never changes. */
final class IdleProgram implements GuestProgram {
    static final IdleProgram INSTANCE = new IdleProgram();

    @Override
    public String name() {
        return "idle";
    }

    @Override
    public void reset(long[] regs) {
        java.util.Arrays.fill(regs, 0L);
    }

    @Override
    public long run(GuestContext ctx, long[] regs, long maxSteps) {
        return 0;
    }
}
