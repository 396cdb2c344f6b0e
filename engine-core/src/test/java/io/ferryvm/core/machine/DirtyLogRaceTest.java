package io.ferryvm.core.machine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.testing.TestGuests;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Writers hammer pages while another thread harvests the dirty log again and again, copying each
 * harvested page as it is at that moment (possibly mid-write). After a final pause and harvest, the
 * copy assembled only from harvested pages must equal memory byte for byte: no write is ever lost.
 */
class DirtyLogRaceTest {
    private static final long MEM = 16L << 20;

    @Test
    void vcpuWritesAreNeverLostByRacingHarvests() {
        try (Machine m = TestGuests.machine("race", new Workload.RandomWrites(0, 42), MEM, 3)) {
            GuestMemory mem = m.memory();
            byte[] copy = new byte[(int) MEM];
            mem.dirtyLog().start(true);
            m.start(false);
            long harvested = 0;
            for (int round = 0; round < 300; round++) {
                harvested += copyDirty(mem, mem.dirtyLog().harvest(), copy);
            }
            m.pause();
            copyDirty(mem, mem.dirtyLog().harvest(), copy);
            assertTrue(m.totalSteps() > 0, "the guest ran");
            assertTrue(harvested > mem.pageCount(), "harvests overlapped guest writes");
            assertMemoryEquals(mem, copy);
        }
    }

    @Test
    void sharedPathWritesAreNeverLostByRacingHarvests() throws Exception {
        // Small memory and many harvests: writers and the harvester meet on the same pages all the time.
        long size = 1L << 20;
        try (GuestMemory mem = GuestMemory.allocate(size)) {
            byte[] copy = new byte[(int) size];
            mem.dirtyLog().start(true);
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> writers = new ArrayList<>();
            for (int w = 0; w < 3; w++) {
                long seed = w;
                Thread t = new Thread(() -> {
                    SplittableRandom r = new SplittableRandom(seed);
                    while (!stop.get()) {
                        long addr = r.nextLong(size / 8) * 8;
                        mem.putLong(addr, r.nextLong());
                    }
                });
                t.start();
                writers.add(t);
            }
            for (int round = 0; round < 20_000; round++) {
                copyDirty(mem, mem.dirtyLog().harvest(), copy);
            }
            stop.set(true);
            for (Thread t : writers) {
                t.join();
            }
            copyDirty(mem, mem.dirtyLog().harvest(), copy);
            assertMemoryEquals(mem, copy);
        }
    }

    @Test
    void harvestClearsAndLoggingStops() {
        try (GuestMemory mem = GuestMemory.allocate(MEM)) {
            DirtyLog log = mem.dirtyLog();
            mem.putLong(0, 1); // not logging yet
            log.start(false);
            assertEquals(0, log.harvest().count());
            mem.putLong(4096 * 3, 7);
            mem.putByte(4096 * 5 + 17, (byte) 1);
            DirtyBitmap d = log.harvest();
            assertEquals(2, d.count());
            assertTrue(d.isDirty(3) && d.isDirty(5));
            assertEquals(3, d.nextDirty(0));
            assertEquals(5, d.nextDirty(4));
            assertEquals(-1, d.nextDirty(6));
            assertEquals(0, log.harvest().count(), "harvest cleared the log");
            log.stop();
            mem.putLong(0, 2);
            assertEquals(0, log.harvest().count(), "no marks while stopped");
            log.start(true);
            assertEquals(mem.pageCount(), log.harvest().count(), "allDirty starts with every page");
        }
    }

    private static long copyDirty(GuestMemory mem, DirtyBitmap dirty, byte[] copy) {
        for (long p = dirty.nextDirty(0); p >= 0; p = dirty.nextDirty(p + 1)) {
            mem.readPage(p, copy, (int) (p * GuestMemory.PAGE_SIZE));
        }
        return dirty.count();
    }

    private static void assertMemoryEquals(GuestMemory mem, byte[] copy) {
        byte[] now = new byte[(int) mem.size()];
        mem.read(0, now, 0, now.length);
        for (long p = 0; p < mem.pageCount(); p++) {
            int off = (int) (p * GuestMemory.PAGE_SIZE);
            assertArrayEquals(java.util.Arrays.copyOfRange(now, off, off + GuestMemory.PAGE_SIZE),
                    java.util.Arrays.copyOfRange(copy, off, off + GuestMemory.PAGE_SIZE), "page " + p + " lost a write");
        }
    }
}
