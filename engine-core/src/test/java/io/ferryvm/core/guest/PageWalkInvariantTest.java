package io.ferryvm.core.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.awaitility.Awaitility.await;

import io.ferryvm.core.machine.GuestMemory;
import io.ferryvm.core.machine.Machine;
import io.ferryvm.core.machine.MachineState;
import io.ferryvm.core.machine.VcpuState;
import io.ferryvm.core.device.serial.SerialState;
import io.ferryvm.core.testing.TestGuests;
import org.junit.jupiter.api.Test;

/** pagewalk's invariant holds at any pause, and the checks reject what a broken migration would leave. */
class PageWalkInvariantTest {
    private static final long MEM = 8L << 20;
    private static final Workload.PageWalk WALK = new Workload.PageWalk(1 << 20, 4L << 20, 0);

    @Test
    void holdsAtEveryPause() {
        try (Machine m = TestGuests.machine("walk", WALK, MEM, 2)) {
            m.start(false);
            for (int i = 0; i < 40; i++) {
                long before = m.totalSteps();
                await().atMost(TestGuests.LONG).until(() -> m.totalSteps() > before);
                m.pause();
                MachineState st = m.saveState();
                PageWalkCheck.Result mem = PageWalkCheck.memoryRule(m.memory(), WALK, 2);
                PageWalkCheck.Result regs = PageWalkCheck.registerRule(m.memory(), WALK, st);
                assertTrue(mem.ok(), mem.toString());
                assertTrue(regs.ok(), regs.toString());
                assertEquals(1024, regs.pagesChecked());
                m.resume();
            }
        }
    }

    @Test
    void printsAPassMarkEvery64Passes() {
        try (Machine m = TestGuests.machine("marks", new Workload.PageWalk(0, 64L << 12, 0), 1L << 20, 1)) {
            TestGuests.runTo(m, 64L * 64 * 3); // 3 x 64 passes over 64 pages
            assertEquals("BBB", m.serial().tail());
        }
    }

    /** The checker's self-test (as the QEMU reproduction's --selftest): accepts every legal cut, rejects faults. */
    @Test
    void checkAcceptsLegalCutsAndRejectsStaleOrAheadPages() {
        int n = 1024;
        for (int k : new int[] {0, 1, n / 2, n - 1}) {
            try (GuestMemory mem = walkMemory(n, 7, k)) {
                assertTrue(PageWalkCheck.memoryRule(mem, WALK, 1).ok(), "cut at " + k);
                assertTrue(PageWalkCheck.registerRule(mem, WALK, state(k, 7)).ok(), "cut at " + k);
            }
        }
        try (GuestMemory mem = walkMemory(n, 7, 300)) {
            mem.putByte((1 << 20) + 100L * 4096, (byte) 7); // a stale page in the prefix: a lost update
            assertFalse(PageWalkCheck.memoryRule(mem, WALK, 1).ok());
            assertFalse(PageWalkCheck.registerRule(mem, WALK, state(300, 7)).ok());
        }
        try (GuestMemory mem = walkMemory(n, 7, 300)) {
            mem.putByte((1 << 20) + 600L * 4096, (byte) 9); // a page ahead of the guest: a bogus page installed
            assertFalse(PageWalkCheck.memoryRule(mem, WALK, 1).ok());
            assertFalse(PageWalkCheck.registerRule(mem, WALK, state(300, 7)).ok());
        }
        try (GuestMemory mem = walkMemory(n, 7, 300)) {
            assertFalse(PageWalkCheck.registerRule(mem, WALK, state(300, 8)).ok(), "memory behind the pass counter");
        }
    }

    /** Memory of a walk stopped at page k of pass p: prefix p+1, suffix p. */
    private static GuestMemory walkMemory(int pages, int pass, int k) {
        GuestMemory mem = GuestMemory.allocate(MEM);
        for (int i = 0; i < pages; i++) {
            mem.putByte((1 << 20) + (long) i * 4096, (byte) (i < k ? pass + 1 : pass));
        }
        return mem;
    }

    private static MachineState state(long next, long pass) {
        long[] regs = new long[8];
        regs[0] = next;
        regs[1] = pass;
        return new MachineState(new VcpuState[] {new VcpuState(0, 0, regs)}, SerialState.EMPTY);
    }
}
