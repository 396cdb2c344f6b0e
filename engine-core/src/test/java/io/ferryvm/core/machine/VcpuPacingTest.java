package io.ferryvm.core.machine;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.Ticker;
import io.ferryvm.core.guest.GuestPrograms;
import io.ferryvm.core.guest.Workload;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Rate limit and throttle against a manual clock: the vCPU's pacing is decided by the ticker alone, so
 * these tests advance time by hand and never depend on how fast the machine is.
 */
class VcpuPacingTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final Ticker ticker = now::get;

    private Machine machine(Workload w) {
        GuestMemory mem = GuestMemory.allocate(4L << 20);
        return Machine.create("paced", mem, GuestPrograms.create(w, mem.size(), 1), Binding.NONE, CpuBinder.NOOP, ticker);
    }

    @Test
    void rateLimitAllowsExactlyThePagesDueByTheClock() {
        // 100 MiB/s = 25600 page writes/s, one every 39.06 us; the vCPU may run 1 ms ahead of its clock.
        try (Machine m = machine(new Workload.RandomWrites(100, 3))) {
            Vcpu v = m.vcpus().get(0);
            m.start(false);
            await().until(() -> v.runState() == Vcpu.RunState.RATE_LIMITED);
            long first = v.steps();
            assertEquals(26, first, "the clock is frozen: only the first millisecond's worth");
            now.addAndGet(10_000_000L); // 10 ms later: 256 more are due
            await().until(() -> v.steps() >= first + 255 && v.runState() == Vcpu.RunState.RATE_LIMITED);
            assertTrue(v.steps() <= first + 257, "no more than the rate allows: " + (v.steps() - first));
            long second = v.steps();
            now.addAndGet(1_000_000_000L); // a whole second lost (a long throttle, say): not made up in a burst
            await().until(() -> v.steps() > second && v.runState() == Vcpu.RunState.RATE_LIMITED);
            assertTrue(v.steps() - second <= 283, "at most 11 ms worth after a stall: " + (v.steps() - second));
        }
    }

    @Test
    void throttleHoldsTheVcpuOffAfterEachSlice() {
        try (Machine m = machine(new Workload.PageWalk(0, 0, 0))) {
            Vcpu v = m.vcpus().get(0);
            m.setThrottle(50);
            m.start(false);
            await().until(() -> v.steps() > 10_000); // the clock is frozen: the 10 ms slice never ends
            assertEquals(Vcpu.RunState.RUNNING, v.runState());
            now.addAndGet(Vcpu.SLICE_NANOS); // the slice is over: 50% throttle sleeps for another slice
            await().until(() -> v.runState() == Vcpu.RunState.THROTTLED);
            long held = v.steps();
            await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5)).until(() -> v.steps() == held);
            now.addAndGet(Vcpu.SLICE_NANOS); // the sleep is over
            await().until(() -> v.steps() > held);
            m.setThrottle(0);
            assertEquals(0, m.throttlePercent());
        }
    }

    @Test
    void stepLimitHaltsAndPauseHoldsAtASafePoint() {
        try (Machine m = machine(new Workload.PageWalk(0, 0, 0))) {
            Vcpu v = m.vcpus().get(0);
            m.setStepLimit(5_000);
            m.start(false);
            await().until(() -> v.runState() == Vcpu.RunState.HALTED);
            assertEquals(5_000, v.steps());
            m.setStepLimit(Long.MAX_VALUE);
            await().until(() -> v.steps() > 5_000);
            m.pause();
            assertEquals(Vcpu.RunState.PAUSED, v.runState());
            long paused = v.steps();
            MachineState st = m.saveState();
            assertEquals(paused, st.vcpus()[0].steps(), "the snapshot is consistent with the step count");
            await().during(Duration.ofMillis(100)).atMost(Duration.ofSeconds(5)).until(() -> v.steps() == paused);
            m.resume();
            await().until(() -> v.steps() > paused);
        }
    }
}
