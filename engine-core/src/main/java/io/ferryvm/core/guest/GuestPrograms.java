package io.ferryvm.core.guest;

import io.ferryvm.core.CoreException;
import io.ferryvm.core.machine.GuestProgram;
import java.util.ArrayList;
import java.util.List;

/** Builds the per-vCPU programs of a workload. */
public final class GuestPrograms {
    private GuestPrograms() {}

    /**
     * One program per vCPU; each works on its own slice, so results never depend on thread timing. A
     * workload's dirty rate is the VM's: each vCPU gets an equal share.
     */
    public static List<GuestProgram> create(Workload workload, long memorySize, int vcpus) {
        if (vcpus < 1) {
            throw new CoreException(CoreException.Kind.INVALID_SPEC, "a VM needs at least one vCPU, got " + vcpus);
        }
        long memPages = memorySize >>> 12;
        List<GuestProgram> out = new ArrayList<>(vcpus);
        for (int i = 0; i < vcpus; i++) {
            out.add(programFor(workload, memorySize, memPages, i, vcpus));
        }
        return out;
    }

    private static GuestProgram programFor(Workload workload, long memorySize, long memPages, int i, int vcpus) {
        if (workload instanceof Workload.PageWalk w) {
            Slice range = range("pagewalk", w.offset(), w.length(), memorySize);
            return new PageWalkProgram(Slice.of(range.firstPage(), range.pages(), i, vcpus), w.dirtyRateMiBps() / vcpus);
        }
        if (workload instanceof Workload.HotSet h) {
            Slice range = range("hotset", h.offset(), h.workingSetBytes(), memorySize);
            Slice mine = Slice.of(range.firstPage(), range.pages(), i, vcpus);
            if (mine.pages() == 0) {
                return IdleProgram.INSTANCE;
            }
            ZipfTable table = ZipfTable.of((int) Math.min(mine.pages(), ZipfTable.MAX_RANKS), h.zipfExponent());
            return new WriterProgram("hotset", mine, table, SplitMix.seedFor(h.seed(), i), h.dirtyRateMiBps() / vcpus);
        }
        if (workload instanceof Workload.RandomWrites r) {
            return new WriterProgram("random", Slice.of(0, memPages, i, vcpus), null, SplitMix.seedFor(r.seed(), i),
                    r.dirtyRateMiBps() / vcpus);
        }
        if (workload instanceof Workload.Fill f) {
            return new FillProgram(Slice.of(0, memPages, i, vcpus), f.zeroPercent(), f.textPercent(), f.seed());
        }
        return IdleProgram.INSTANCE; // Workload.Idle
    }

    /** The slice [offset, offset + length) of memory in pages; length 0 means to the end. */
    static Slice range(String what, long offset, long length, long memorySize) {
        long len = length == 0 ? memorySize - offset : length;
        if (offset >= memorySize || len <= 0 || offset + len > memorySize) {
            throw new CoreException(CoreException.Kind.INVALID_SPEC, what + " range [" + offset + ", +" + length
                    + ") does not fit in " + memorySize + " bytes of guest memory");
        }
        return new Slice(offset >>> 12, len >>> 12);
    }
}
