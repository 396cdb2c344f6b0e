package io.ferryvm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.VmStatus;
import io.ferryvm.core.guest.Workload;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
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
}
