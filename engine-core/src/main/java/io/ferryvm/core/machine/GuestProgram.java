package io.ferryvm.core.machine;

/**
 * What a vCPU executes: a deterministic step function over (guest memory, registers). All of a
 * program's mutable state lives in the register file, so a saved register file plus memory resumes the
 * program exactly; the same seed and step count always give the same memory.
 */
public interface GuestProgram {
    /** Size of every vCPU's register file. */
    int REGISTERS = 8;

    /** A short name for reports ("pagewalk", "hotset", ...). */
    String name();

    /** Fills the register file with this program's initial state. */
    void reset(long[] regs);

    /**
     * Runs at most maxSteps steps and returns how many ran. Returning 0 means halted: the vCPU idles until
     * something changes (like {@code hlt}). A step never blocks except on a post-copy page fault.
     */
    long run(GuestContext ctx, long[] regs, long maxSteps);

    /** Page writes per second this program is limited to (0 = unlimited): its dirty rate / 4 KiB. */
    default double stepsPerSecond() {
        return 0;
    }
}
