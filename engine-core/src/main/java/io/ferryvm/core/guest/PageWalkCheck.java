package io.ferryvm.core.guest;

import io.ferryvm.core.machine.GuestMemory;
import io.ferryvm.core.machine.MachineState;
import io.ferryvm.core.machine.VcpuState;
import java.util.ArrayList;
import java.util.List;

/**
 * The pagewalk guest's invariants: the oracle that says a migrated (or saved, or paused) guest's memory
 * is exactly what the guest wrote.
 *
 * <p>Let b[i] be byte 0 of page i of a vCPU's slice (N pages), r0 the index of the next page to
 * increment and r1 the completed passes. At any safe point:
 * <ul>
 *   <li><b>register rule</b>: b[i] == (r1 + 1) mod 256 for i &lt; r0, and b[i] == r1 mod 256 for
 *       i &gt;= r0 (a prefix one ahead, a suffix at the pass count);</li>
 *   <li><b>memory rule</b> (QEMU's check_guests_ram, needing no registers): walking up, each b[i]
 *       equals b[i-1], except at most one place where b[i] + 1 == b[i-1] (mod 256).</li>
 * </ul>
 * A lost or stale page breaks both; a page sent twice or late cannot pass the register rule unless
 * its final content is right.
 */
public final class PageWalkCheck {
    /** Outcome of a check: the first problems (at most 10), and counts. */
    public record Result(boolean ok, long pagesChecked, long badPages, List<String> problems) {
        @Override
        public String toString() {
            return ok ? "pagewalk invariant holds over " + pagesChecked + " pages"
                    : "pagewalk invariant broken at " + badPages + " of " + pagesChecked + " pages: " + problems;
        }
    }

    private PageWalkCheck() {}

    /** QEMU's rule, per vCPU slice of [offset, offset + length) (length 0: to the end of memory). */
    public static Result memoryRule(GuestMemory memory, Workload.PageWalk walk, int vcpus) {
        Slice range = GuestPrograms.range("pagewalk", walk.offset(), walk.length(), memory.size());
        List<String> problems = new ArrayList<>();
        long bad = 0;
        long checked = 0;
        for (int v = 0; v < vcpus; v++) {
            Slice s = Slice.of(range.firstPage(), range.pages(), v, vcpus);
            int steps = 0;
            for (long i = 1; i < s.pages(); i++) {
                int prev = memory.getByte(s.address(i - 1)) & 0xFF;
                int cur = memory.getByte(s.address(i)) & 0xFF;
                if (cur == prev) {
                    continue;
                }
                if (((cur + 1) & 0xFF) == prev && steps == 0) {
                    steps++;
                    continue;
                }
                bad++;
                if (problems.size() < 10) {
                    problems.add("vCPU " + v + " page " + (s.firstPage() + i) + ": byte " + cur + " after " + prev);
                }
            }
            checked += s.pages();
        }
        return new Result(bad == 0, checked, bad, problems);
    }

    /** The register rule: exact expected byte of every page from each vCPU's saved registers. */
    public static Result registerRule(GuestMemory memory, Workload.PageWalk walk, MachineState state) {
        Slice range = GuestPrograms.range("pagewalk", walk.offset(), walk.length(), memory.size());
        List<String> problems = new ArrayList<>();
        long bad = 0;
        long checked = 0;
        VcpuState[] vs = state.vcpus();
        for (VcpuState v : vs) {
            Slice s = Slice.of(range.firstPage(), range.pages(), v.index(), vs.length);
            long[] r = v.regs();
            long next = r[0];
            long passes = r[1];
            if (s.pages() > 0 && (next < 0 || next >= s.pages())) {
                bad++;
                problems.add("vCPU " + v.index() + ": next page index " + next + " outside its " + s.pages() + " pages");
                continue;
            }
            for (long i = 0; i < s.pages(); i++) {
                int expect = (int) ((passes + (i < next ? 1 : 0)) & 0xFF);
                int got = memory.getByte(s.address(i)) & 0xFF;
                if (got != expect) {
                    bad++;
                    if (problems.size() < 10) {
                        problems.add("vCPU " + v.index() + " page " + (s.firstPage() + i) + ": byte " + got + ", expected " + expect);
                    }
                }
            }
            checked += s.pages();
        }
        return new Result(bad == 0, checked, bad, problems);
    }
}
