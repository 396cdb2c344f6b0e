package io.ferryvm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.VmStatus;
import io.ferryvm.core.guest.Workload;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Post-copy: the target runs before all pages arrived; missing pages are fetched on first touch. */
class PostCopyTest {
    private static final long MEM = 32L << 20;

    @TempDir
    Path dir;

    private static MigrationRequest postCopyNow(int channels) {
        return MigrationRequest.defaults().withChannels(channels).withDowntimeLimit(Duration.ofNanos(1)).withMaxIterations(1)
                .withNonConvergence(MigrationRequest.NonConvergence.POST_COPY);
    }

    @ParameterizedTest(name = "{0} channel(s)")
    @ValueSource(ints = {1, 4})
    void aPagewalkGuestFaultsInWhatItTouches(int channels) {
        try (TwoHosts h = new TwoHosts(dir)) {
            Workload.PageWalk w = new Workload.PageWalk(0, 24 << 20, 0); // unthrottled: re-dirties everything constantly
            UUID vm = h.start("walk", 2, MEM, w);
            h.awaitSteps(vm, 50_000);
            MigrationReport r = h.migrate(vm, postCopyNow(channels));
            assertTrue(r.succeeded(), r.toLogLine());
            assertEquals("post-copy", r.mode());
            assertTrue(r.postCopy().toNanos() > 0, r.toLogLine());
            assertEquals(MigrationPhase.FINISHED,
                    h.to.journal().read(r.migrationId(), MigrationJournal.Role.TARGET).orElseThrow().phase());
            Guests.assertPageWalkIntact(h.target, vm, w, 2);
        }
    }

    @Test
    void aHotsetGuestMatchesItsTwinAfterPostCopy() {
        try (TwoHosts h = new TwoHosts(dir)) {
            Workload w = new Workload.HotSet(0, 16 << 20, 0.8, 0, 5);
            UUID vm = h.start("hot", 2, MEM, w);
            h.awaitSteps(vm, 20_000);
            MigrationReport r = h.migrate(vm, postCopyNow(2));
            assertTrue(r.succeeded(), r.toLogLine());
            assertEquals("post-copy", r.mode());
            Guests.assertTwinDigest(h.target, vm, w, MEM, 2, 20_000);
        }
    }

    @Test
    void losingTheStreamAfterTheTargetStartedLosesTheGuest() {
        try (TwoHosts h = new TwoHosts(dir)) {
            h.sourceFailpoints.arm("source.postcopy.stream", Failpoints.Action.ERROR);
            UUID vm = h.start("walk", 1, MEM, new Workload.PageWalk(0, 24 << 20, 0));
            h.awaitSteps(vm, 50_000);
            MigrationReport r = h.migrate(vm, postCopyNow(2));
            assertEquals(MigrationReport.Outcome.GUEST_LOST, r.outcome(), r.toLogLine());
            assertFalse(h.target.has(vm), "the half-migrated guest is gone from the target");
            // never resumed here (it ran elsewhere), and not stuck either: stopped, its definition intact, startable
            assertEquals(VmStatus.STOPPED, h.source.vm(vm).status(), "the source never resumes a guest that ran elsewhere");
            assertTrue(h.source.runHistory().runs().stream().filter(x -> x.vm().equals(vm)).noneMatch(
                    io.ferryvm.core.machine.RunHistory.Run::open), "no copy runs on the source");
            assertEquals(MigrationJournal.Verdict.LOST, MigrationJournal.decide(
                    h.from.journal().read(r.migrationId(), MigrationJournal.Role.SOURCE),
                    h.to.journal().read(r.migrationId(), MigrationJournal.Role.TARGET)));
        }
    }

    @Test
    void aFailureBeforeTheTargetRunsStillResumesTheSource() {
        try (TwoHosts h = new TwoHosts(dir)) {
            h.sourceFailpoints.arm("source.postcopy", Failpoints.Action.ERROR);
            UUID vm = h.start("walk", 1, MEM, new Workload.PageWalk(0, 24 << 20, 0));
            h.awaitSteps(vm, 50_000);
            MigrationReport r = h.migrate(vm, postCopyNow(2));
            assertInstanceOf(MigrationFailure.Injected.class, r.failure());
            assertEquals(MigrationReport.Outcome.FAILED, r.outcome());
            h.assertStillOnSource(vm, VmStatus.RUNNING);
        }
    }

    /**
     * Chaos schedule target.postcopy.running=error (chaos-tests FailpointChaosIT): the target started the guest,
     * then failed before it could say so; the source, never told, resumed its copy on ABORT while the target's
     * still ran (53 ms of two running copies). The target now stops its copy before it sends ABORT.
     */
    @Test
    void aTargetFailingAsItStartsTheGuestStopsItBeforeTheSourceResumes() {
        try (TwoHosts h = new TwoHosts(dir)) {
            h.targetFailpoints.arm("target.postcopy.running", Failpoints.Action.ERROR);
            UUID vm = h.start("walk", 1, MEM, new Workload.PageWalk(0, 24 << 20, 0));
            h.awaitSteps(vm, 50_000);
            MigrationReport r = h.migrate(vm, postCopyNow(2));
            assertEquals(MigrationReport.Outcome.FAILED, r.outcome(), r.toLogLine());
            h.assertStillOnSource(vm, VmStatus.RUNNING);
            long targetStopped = h.target.runHistory().runs().stream().filter(x -> x.vm().equals(vm))
                    .mapToLong(io.ferryvm.core.machine.RunHistory.Run::toMicros).max().orElse(Long.MIN_VALUE);
            long sourceResumed = h.source.runHistory().runs().stream().filter(x -> x.vm().equals(vm))
                    .mapToLong(io.ferryvm.core.machine.RunHistory.Run::fromMicros).max().orElseThrow();
            assertTrue(targetStopped <= sourceResumed, "the target's copy ran until " + targetStopped
                    + " µs, the source's resumed at " + sourceResumed + " µs: two copies ran at once");
            // ABORTED replaced the source's POSTCOPY entry before it resumed: after a crash too, the guest is here.
            assertEquals(MigrationJournal.Verdict.ON_SOURCE, MigrationJournal.decide(
                    h.from.journal().read(r.migrationId(), MigrationJournal.Role.SOURCE),
                    h.to.journal().read(r.migrationId(), MigrationJournal.Role.TARGET)));
        }
    }

    /**
     * Chaos schedule target.postcopy.running=hang (chaos-tests FailpointChaosIT): POSTCOPY went out, the target
     * started the guest but never said so, the migration was cancelled, and the source resumed while the
     * target's copy still ran. Without ACK the source cannot know: it resumes only on the target's ABORT (sent
     * after the target stopped its copy), otherwise it loses the guest; never two copies.
     */
    @Test
    void endingBetweenPostCopyAndItsAckNeverLeavesTwoCopies() {
        try (TwoHosts h = new TwoHosts(dir)) {
            h.targetFailpoints.arm("target.postcopy.running", Failpoints.Action.HANG);
            UUID vm = h.start("walk", 1, MEM, new Workload.PageWalk(0, 24 << 20, 0));
            h.awaitSteps(vm, 50_000);
            MigrationReport r = h.migrate(vm, postCopyNow(2).withTimeout(java.time.Duration.ofSeconds(3)));
            assertTrue(r.outcome() == MigrationReport.Outcome.FAILED || r.outcome() == MigrationReport.Outcome.GUEST_LOST, r.toLogLine());
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> !h.target.has(vm));
            if (r.outcome() == MigrationReport.Outcome.FAILED) {
                h.assertStillOnSource(vm, VmStatus.RUNNING);
            } else {
                assertEquals(VmStatus.STOPPED, h.source.vm(vm).status());
            }
            List<io.ferryvm.core.machine.RunHistory.Run> src = h.source.runHistory().runs().stream().filter(x -> x.vm().equals(vm)).toList();
            List<io.ferryvm.core.machine.RunHistory.Run> dst = h.target.runHistory().runs().stream().filter(x -> x.vm().equals(vm)).toList();
            for (io.ferryvm.core.machine.RunHistory.Run a : src) {
                for (io.ferryvm.core.machine.RunHistory.Run b : dst) {
                    assertTrue(a.toMicros() <= b.fromMicros() || b.toMicros() <= a.fromMicros(),
                            "the guest ran on both hosts at once: source " + a + ", target " + b);
                }
            }
        }
    }

    @Test
    void aFailureAfterPostCopyWasJournaledButBeforeItWentOutResumesTheSource() {
        InMemoryTransport t = new InMemoryTransport();
        // Cut the stream when the dirty map goes out: POSTCOPY is journaled (durably, before the pause) but never sent.
        t.intercept((conn, toTarget, bytes) -> !(toTarget && bytes.length > 4 && bytes[4] == (byte) Command.DIRTY_MAP.code));
        try (TwoHosts h = new TwoHosts(dir, t)) {
            UUID vm = h.start("walk", 1, MEM, new Workload.PageWalk(0, 24 << 20, 0));
            h.awaitSteps(vm, 50_000);
            MigrationReport r = h.migrate(vm, postCopyNow(2));
            assertEquals(MigrationReport.Outcome.FAILED, r.outcome(), r.toLogLine());
            h.assertStillOnSource(vm, VmStatus.RUNNING);
            assertEquals(MigrationPhase.ABORTED, h.from.journal().read(r.migrationId(), MigrationJournal.Role.SOURCE).orElseThrow().phase(),
                    "ABORTED replaced POSTCOPY before the guest resumed");
            assertEquals(MigrationJournal.Verdict.ON_SOURCE, MigrationJournal.decide(
                    h.from.journal().read(r.migrationId(), MigrationJournal.Role.SOURCE),
                    h.to.journal().read(r.migrationId(), MigrationJournal.Role.TARGET)));
        }
    }

    @Test
    void aPreviousVersionSourceStillGoesPostCopy() {
        try (TwoHosts h = new TwoHosts(dir)) {
            Workload.PageWalk w = new Workload.PageWalk(0, 24 << 20, 0);
            UUID vm = h.start("walk", 2, MEM, w);
            h.awaitSteps(vm, 50_000);
            // A v2 source does not journal POSTCOPY before its pause: the target's own entry must be durable first.
            MigrationSource src = MigrationSource.begin(h.from, vm, postCopyNow(2), 2);
            MigrationTarget dst = h.to.prepare(src.offer());
            src.perform(dst.ticket());
            MigrationReport r = src.confirm(dst.finish());
            assertTrue(r.succeeded(), r.toLogLine());
            assertEquals("post-copy", r.mode());
            assertEquals(MigrationPhase.FINISHED,
                    h.to.journal().read(r.migrationId(), MigrationJournal.Role.TARGET).orElseThrow().phase());
            Guests.assertPageWalkIntact(h.target, vm, w, 2);
        }
    }
}
