package io.ferryvm.cluster.agent;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.cluster.api.MigrationOptions;
import io.ferryvm.cluster.api.MigrationSummary;
import io.ferryvm.core.Host;
import io.ferryvm.core.HostConfig;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.host.HostInventory;
import io.ferryvm.migration.Failpoints;
import io.ferryvm.migration.InMemoryTransport;
import io.ferryvm.migration.MigrationOffer;
import io.ferryvm.migration.MigrationTarget;
import io.ferryvm.migration.MigrationTicket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failing schedules the chaos suite (chaos-tests FailpointChaosIT) found in the host agents' migration
 * handling, kept as regressions: two agents in one JVM, the target driven directly (no actors).
 */
class MigrationAgentChaosRegressionTest {
    @TempDir
    Path dir;

    Host source;
    Host target;
    final Failpoints sourceFailpoints = Failpoints.none();
    final Failpoints targetFailpoints = Failpoints.none();
    MigrationAgent from;
    MigrationAgent to;

    @AfterEach
    void close() {
        if (from != null) {
            from.close();
            to.close();
            source.close();
            target.close();
        }
    }

    private void hosts() {
        InMemoryTransport transport = new InMemoryTransport();
        source = Host.open(new HostConfig("src", dir.resolve("src"), HostInventory.declared("src", 1, 4, 1, 8L << 30), null, null));
        target = Host.open(new HostConfig("dst", dir.resolve("dst"), HostInventory.declared("dst", 1, 4, 1, 8L << 30), null, null));
        from = new MigrationAgent(source, transport, sourceFailpoints);
        to = new MigrationAgent(target, transport, targetFailpoints);
    }

    /** The target's control plane, called directly as the target agent would be. */
    private MigrationAgent.TargetControl direct() {
        return new MigrationAgent.TargetControl() {
            @Override
            public MigrationTicket prepare(MigrationOffer offer) {
                return to.prepareIn(offer);
            }

            @Override
            public MigrationTarget.Finished finish(UUID migrationId) {
                return to.finishIn(migrationId);
            }

            @Override
            public MigrationAgent.AbortOutcome abort(UUID migrationId, String reason) {
                return to.abortIn(migrationId, reason);
            }
        };
    }

    private MigrationSummary migrate(UUID vm) {
        AtomicReference<MigrationSummary> end = new AtomicReference<>();
        UUID id = UUID.randomUUID();
        from.migrateOut(id, vm, "dst", new MigrationOptions(300, 0, 1, "lz4", true, false, 30, 10), direct(), p -> { }, end::set);
        await().atMost(Duration.ofMinutes(1)).until(() -> end.get() != null);
        return end.get();
    }

    private UUID running() {
        VmSpec spec = VmSpec.of("walker", 1, 8L << 20, new Workload.PageWalk(0, 0, 4));
        source.define(spec);
        source.start(spec.id());
        return spec.id();
    }

    /**
     * Schedule "target.finish=error": the abort that follows a failed finish threw CompletionException on the
     * target's worker (the finish future had completed exceptionally), so no AbortReply ever went back and the
     * source waited out its whole timeout. An abort after a failed finish must answer "aborted".
     */
    @Test
    void anAbortAfterAFailedFinishAnswersAbortedInsteadOfThrowing() {
        hosts();
        targetFailpoints.arm("target.finish", Failpoints.Action.ERROR);
        UUID vm = running();
        MigrationSummary s = migrate(vm);
        assertFalse(s.success(), s.line());
        assertEquals(VmStatus.RUNNING, source.vm(vm).status(), "the guest goes on at the source");
        assertFalse(target.has(vm), "the target is clean");
        MigrationAgent.AbortOutcome late = to.abortIn(s.migrationId(), "a retried abort");
        assertTrue(late.aborted(), "a failed finish keeps nothing on the target");
    }

    /**
     * Schedule "target.activate=error" right after the target's node restarted (CI): the prepare's reply was
     * lost, the source gave up, and the prepared target held its reservation for good. The source now tells
     * the target it gave up, and the target is left with nothing.
     */
    @Test
    void aPrepareWhoseReplyWasLostLeavesNothingOnTheTarget() {
        hosts();
        UUID vm = running();
        MigrationAgent.TargetControl real = direct();
        MigrationAgent.TargetControl replyLost = new MigrationAgent.TargetControl() {
            @Override
            public MigrationTicket prepare(MigrationOffer offer) {
                real.prepare(offer); // prepared there, but the answer never comes back
                throw new io.ferryvm.migration.MigrationException(new io.ferryvm.migration.MigrationFailure.TimedOut(
                        "prepare on the target", Duration.ofSeconds(1)));
            }

            @Override
            public MigrationTarget.Finished finish(UUID migrationId) {
                return real.finish(migrationId);
            }

            @Override
            public MigrationAgent.AbortOutcome abort(UUID migrationId, String reason) {
                return real.abort(migrationId, reason);
            }
        };
        AtomicReference<MigrationSummary> end = new AtomicReference<>();
        from.migrateOut(UUID.randomUUID(), vm, "dst", new MigrationOptions(300, 0, 1, "lz4", true, false, 30, 60), replyLost,
                p -> { }, end::set);
        await().atMost(Duration.ofMinutes(1)).until(() -> end.get() != null);
        assertFalse(end.get().success(), end.get().line());
        assertEquals(VmStatus.RUNNING, source.vm(vm).status(), "the guest goes on at the source");
        await().atMost(Duration.ofMinutes(1)).until(() -> to.active() == 0 && !target.has(vm));
    }

    /** A resent PrepareIn (the first reply lost) gets the first one's ticket; once that target ended, a refusal. */
    @Test
    void aResentPrepareGetsTheSameTicketAndNoSecondReservation() {
        hosts();
        UUID vm = running();
        io.ferryvm.migration.MigrationSource src = from.service().begin(vm, MigrationAgent.request(
                new MigrationOptions(300, 0, 1, "lz4", true, false, 30, 60)), UUID.randomUUID());
        MigrationTicket first = to.prepareIn(src.offer());
        MigrationTicket again = to.prepareIn(src.offer());
        assertEquals(first, again);
        assertEquals(1, to.active(), "one incoming migration, not two");
        assertTrue(to.abortIn(src.offer().migrationId(), "test over").aborted());
        io.ferryvm.migration.MigrationException late = org.junit.jupiter.api.Assertions.assertThrows(
                io.ferryvm.migration.MigrationException.class, () -> to.prepareIn(src.offer()));
        assertTrue(late.getMessage().contains("already ended"), late.getMessage());
        src.abort(new io.ferryvm.migration.MigrationFailure.Cancelled("test over"));
        assertFalse(target.has(vm));
    }

    /**
     * Schedule "source.confirm=error": the source's copy stayed MIGRATING (paused) forever next to the
     * running target copy, defined on two hosts. Confirm releases it whatever failed in confirm itself.
     */
    @Test
    void aFailedConfirmStillReleasesTheSourceCopy() {
        hosts();
        sourceFailpoints.arm("source.confirm", Failpoints.Action.ERROR);
        UUID vm = running();
        MigrationSummary s = migrate(vm);
        assertTrue(s.success(), s.line());
        assertEquals(VmStatus.RUNNING, target.vm(vm).status());
        assertFalse(source.has(vm), "no second copy left on the source");
    }

    /**
     * Chaos scenario "partition isolate-source": the isolated source was downed and died; its target saw the
     * channels close and aborted itself, but stayed in the agent's books (in flight, for good) since no abort
     * came from the dead source. A target that ended by itself leaves them.
     */
    @Test
    void anIncomingMigrationWhoseSourceVanishedLeavesTheBooks() {
        hosts();
        sourceFailpoints.arm("source.precopy.iteration", Failpoints.Action.CRASH); // the source dies mid-stream, sends nothing more
        UUID vm = running();
        io.ferryvm.migration.MigrationSource src = from.service().begin(vm, MigrationAgent.request(
                new MigrationOptions(300, 0, 1, "lz4", true, false, 30, 10)), UUID.randomUUID());
        MigrationTicket ticket = to.prepareIn(src.offer());
        assertEquals(1, to.active());
        try {
            src.perform(ticket);
        } catch (io.ferryvm.migration.MigrationException crashed) {
            // the simulated crash: channels cut, no ABORT, no abort through the control plane either
        }
        await().atMost(Duration.ofMinutes(1)).until(() -> to.active() == 0);
        assertFalse(target.has(vm), "and the target is clean");
    }
}
