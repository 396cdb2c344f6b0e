package io.ferryvm.core.machine;

import java.util.Arrays;

/** A vCPU's saved state: its index, the steps it has run and its register file (the program's state). */
public record VcpuState(int index, long steps, long[] regs) {
    public VcpuState {
        regs = regs.clone();
        if (index < 0) {
            throw new IllegalArgumentException("vCPU index " + index + " < 0");
        }
        if (steps < 0) {
            throw new IllegalArgumentException("vCPU " + index + ": negative step count " + steps);
        }
        if (regs.length != GuestProgram.REGISTERS) {
            throw new IllegalArgumentException("vCPU " + index + ": register file of " + regs.length
                    + " registers, expected " + GuestProgram.REGISTERS);
        }
    }

    @Override
    public long[] regs() {
        return regs.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VcpuState v && v.index == index && v.steps == steps && Arrays.equals(v.regs, regs);
    }

    @Override
    public int hashCode() {
        return (index * 31 + Long.hashCode(steps)) * 31 + Arrays.hashCode(regs);
    }

    @Override
    public String toString() {
        return "VcpuState[" + index + ", steps=" + steps + ", regs=" + Arrays.toString(regs) + "]";
    }
}
