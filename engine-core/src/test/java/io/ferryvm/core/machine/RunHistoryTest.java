package io.ferryvm.core.machine;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.Host;
import io.ferryvm.core.HostConfig;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.host.HostInventory;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The wall-clock run history: what a host records of when its guests executed, and the live-memory count. */
class RunHistoryTest {
    @TempDir
    Path dir;

    @Test
    void intervalsOpenAndCloseOnceAndTheOldestGoFirst() {
        AtomicLong clock = new AtomicLong(100);
        RunHistory h = new RunHistory(2, clock::get);
        UUID a = UUID.randomUUID();
        UUID b = UUID.randomUUID();
        h.started(a);
        clock.set(150);
        h.started(a); // already open: the earlier start stands
        clock.set(200);
        h.stopped(a);
        h.stopped(a); // nothing open: nothing recorded
        assertEquals(List.of(new RunHistory.Run(a, 100, 200)), h.runs());

        h.started(b);
        clock.set(300);
        h.stopped(b);
        h.started(a);
        clock.set(400);
        h.stopped(a);
        assertEquals(List.of(new RunHistory.Run(b, 200, 300), new RunHistory.Run(a, 300, 400)), h.runs(), "capacity 2 keeps the last two");

        clock.set(500);
        h.started(b);
        List<RunHistory.Run> now = h.runs();
        assertTrue(now.get(now.size() - 1).open());
        assertEquals(500, now.get(now.size() - 1).fromMicros());
    }

    @Test
    void aHostRecordsStartPauseResumeStopAndKeepsRunsOfVmsThatLeft() {
        Host host = Host.open(new HostConfig("h", dir, HostInventory.declared("h", 1, 2, 1, 1L << 30), null, null));
        try {
            long before = GuestMemory.liveBytes();
            VmSpec spec = VmSpec.of("walker", 1, 4L << 20, new Workload.PageWalk(0, 0, 0));
            host.define(spec);
            host.start(spec.id());
            assertEquals(before + (4L << 20), GuestMemory.liveBytes(), "a running VM holds its memory");
            await().until(() -> host.info(spec.id()).steps() > 0);
            host.pause(spec.id());
            long pausedAt = host.info(spec.id()).steps();
            host.resume(spec.id());
            host.stop(spec.id());
            host.undefine(spec.id());
            assertEquals(before, GuestMemory.liveBytes(), "a stopped VM's memory is unmapped");

            List<RunHistory.Run> runs = host.runHistory().runs();
            assertEquals(2, runs.size(), runs.toString());
            assertTrue(pausedAt > 0);
            for (RunHistory.Run r : runs) {
                assertEquals(spec.id(), r.vm());
                assertFalse(r.open());
                assertTrue(r.fromMicros() <= r.toMicros());
            }
            assertTrue(runs.get(0).toMicros() <= runs.get(1).fromMicros(), "pause closes the first run before resume opens the second");
        } finally {
            host.close();
        }
    }
}
