package io.ferryvm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.Ticker;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.machine.MachineState;
import io.ferryvm.core.state.StateCodec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A guest that dirties memory faster than the (capped) link: pre-copy alone never converges; it must
 * converge through auto-converge or post-copy, and post-copy is only ever used when asked for.
 */
class ConvergenceTest {
    private static final long MEM = 4L << 20;
    /** 32 MiB/s of page writes against an 8 MiB/s link, raw pages: the guest outruns the link. */
    private static final Workload FAST = new Workload.RandomWrites(32, 21);
    private static final long CAP = 8L << 20;

    @TempDir
    Path dir;

    private static MigrationRequest capped() {
        return MigrationRequest.defaults().withCompression(Compression.NONE).withBandwidth(CAP).withTimeout(Duration.ofSeconds(60));
    }

    @Test
    void autoConvergeThrottlesUntilItConverges() {
        try (TwoHosts h = new TwoHosts(dir)) {
            UUID vm = h.start("fast", 1, MEM, FAST);
            h.awaitSteps(vm, 2000);
            MigrationReport r = h.migrate(vm, capped().withAutoConverge(true));
            assertTrue(r.succeeded(), r.toLogLine());
            assertEquals("pre-copy", r.mode());
            assertTrue(r.throttleReached() >= 20, "converged only by throttling: " + r.toLogLine());
            assertTrue(r.iterations() >= 2, r.toLogLine());
            assertTrue(h.events.stream().anyMatch(e -> e.throttlePercent() >= 20), "progress events show the throttle");
            assertEquals(0, h.target.vm(vm).machine().throttlePercent(), "the target runs unthrottled");
            Guests.assertTwinDigest(h.target, vm, FAST, MEM, 1, 1000);
        }
    }

    @Test
    void postCopyConvergesWhenAskedFor() {
        try (TwoHosts h = new TwoHosts(dir)) {
            UUID vm = h.start("fast", 1, MEM, FAST);
            h.awaitSteps(vm, 2000);
            MigrationReport r = h.migrate(vm, capped().withMaxIterations(2).withNonConvergence(MigrationRequest.NonConvergence.POST_COPY));
            assertTrue(r.succeeded(), r.toLogLine());
            assertEquals("post-copy", r.mode());
            assertEquals(0, r.throttleReached());
            Guests.assertTwinDigest(h.target, vm, FAST, MEM, 1, 1000);
        }
    }

    @Test
    void withoutThrottleOrPostCopyItGivesUpAndTheGuestStaysOnTheSource() {
        try (TwoHosts h = new TwoHosts(dir)) {
            UUID vm = h.start("fast", 1, MEM, FAST);
            h.awaitSteps(vm, 2000);
            MigrationReport r = h.migrate(vm, capped().withMaxIterations(2));
            assertInstanceOf(MigrationFailure.NotConverged.class, r.failure(), r.toLogLine());
            assertEquals("pre-copy", r.mode(), "post-copy is never entered unless asked for");
            assertFalse(h.target.has(vm));
            h.assertStillOnSource(vm, VmStatus.RUNNING);
            assertEquals(0, h.source.vm(vm).machine().throttlePercent());
        }
    }

    /** System time plus whatever the slow state saves "took": time jumps forward, nobody sleeps. */
    private static final class SkippingTicker implements Ticker {
        private final AtomicLong skipped = new AtomicLong();

        @Override
        public long nanos() {
            return System.nanoTime() + skipped.get();
        }

        byte[] slowEncode(MachineState s) {
            skipped.addAndGet(SLOW_STATE.toNanos());
            return StateCodec.encode(s);
        }
    }

    private static final Duration SLOW_STATE = Duration.ofMillis(400);

    @Test
    void aGuestWhoseStateIsSlowToSaveDoesNotSwitchOverOnItsMemoryAlone() {
        SkippingTicker clock = new SkippingTicker();
        try (TwoHosts h = new TwoHosts(dir, new InMemoryTransport(), clock, clock::slowEncode)) {
            UUID vm = h.start("idle", 1, MEM, new Workload.Idle());
            // An idle guest leaves nothing to copy after the first pass: memory alone fits the 300 ms at once.
            MigrationReport r = h.migrate(vm, MigrationRequest.defaults().withMaxIterations(2));
            MigrationFailure.NotConverged nc = assertInstanceOf(MigrationFailure.NotConverged.class, r.failure(), r.toLogLine());
            assertEquals(0, nc.dirtyPages(), r.toLogLine());
            assertTrue(nc.expectedDowntimeMillis() >= SLOW_STATE.toMillis(), "the state's save counts: " + r.toLogLine());
            assertTrue(h.events.stream().filter(e -> e.phase() == MigrationPhase.PERFORMING && e.iteration() >= 1)
                    .allMatch(e -> e.expectedDowntimeMillis() >= SLOW_STATE.toMillis()), "every estimate includes the state: " + h.events);
            assertFalse(h.target.has(vm));
            assertEquals(VmStatus.RUNNING, h.source.vm(vm).status(), "the idle guest stays on the source, running");
        }
    }

    @Test
    void theStateCostIsPartOfTheExpectedDowntimeWhenItFits() {
        SkippingTicker clock = new SkippingTicker();
        try (TwoHosts h = new TwoHosts(dir, new InMemoryTransport(), clock, clock::slowEncode)) {
            UUID vm = h.start("idle", 1, MEM, new Workload.Idle());
            MigrationReport r = h.migrate(vm, MigrationRequest.defaults().withDowntimeLimit(Duration.ofSeconds(5)));
            assertTrue(r.succeeded(), r.toLogLine());
            MigrationEvent last = h.events.stream().filter(e -> e.phase() == MigrationPhase.PERFORMING && e.iteration() >= 1)
                    .reduce((a, b) -> b).orElseThrow();
            assertTrue(last.expectedDowntimeMillis() >= SLOW_STATE.toMillis(), "expected downtime includes the state: " + last);
            assertTrue(r.downtime().compareTo(SLOW_STATE) >= 0, "and the state was saved inside the downtime: " + r.toLogLine());
        }
    }
}
