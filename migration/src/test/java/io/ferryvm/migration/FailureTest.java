package io.ferryvm.migration;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.testing.TestGuests;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Failure at every phase: whatever breaks before finish, the source keeps running as before, the target
 * holds nothing, the report says why, and the journals decide the guest is on the source.
 */
class FailureTest {
    private static final long MEM = 16L << 20;
    private static final Workload WALK = new Workload.PageWalk(0, 4 << 20, 20);

    @TempDir
    Path dir;

    /** Short timeouts and forced iterations, so every per-iteration point is reached. */
    private static MigrationRequest request() {
        return MigrationRequest.defaults().withDowntimeLimit(Duration.ofNanos(1)).withMaxIterations(3)
                .withNonConvergence(MigrationRequest.NonConvergence.FORCE).withTimeout(Duration.ofSeconds(10));
    }

    private static void assertOnSource(TwoHosts h, UUID vm, MigrationReport r) {
        assertFalse(r.succeeded(), r.toLogLine());
        assertTrue(r.failure() != null && !r.failure().describe().isEmpty(), "the report says why");
        h.assertStillOnSource(vm, VmStatus.RUNNING);
        assertEquals(MigrationJournal.Verdict.ON_SOURCE, MigrationJournal.decide(
                h.from.journal().read(r.migrationId(), MigrationJournal.Role.SOURCE),
                h.to.journal().read(r.migrationId(), MigrationJournal.Role.TARGET)));
    }

    @ParameterizedTest(name = "error at {0}")
    @ValueSource(strings = {"target.prepare", "source.connect", "target.hello", "source.precopy.iteration.1",
        "source.precopy.iteration.2", "target.sync.2", "source.switchover", "source.state", "target.ready", "target.finish",
        "target.activate"})
    void anErrorBeforeFinishLeavesTheGuestOnTheSource(String point) {
        try (TwoHosts h = new TwoHosts(dir)) {
            Failpoints fp = point.startsWith("source") ? h.sourceFailpoints : h.targetFailpoints;
            fp.arm(point, Failpoints.Action.ERROR);
            UUID vm = h.start("vm", 1, MEM, WALK);
            MigrationReport r = h.migrate(vm, request());
            assertOnSource(h, vm, r);
            if (point.equals("target.hello")) { // an unauthenticated channel is refused; the source hears why
                assertEquals(new MigrationFailure.Rejected("hello", "failpoint target.hello fired (error)"), r.failure());
            } else {
                assertEquals(new MigrationFailure.Injected(point, Failpoints.Action.ERROR), r.failure(), r.toLogLine());
            }
            assertTrue(fp.fired().contains(point));
            fp.disarm(point);
            // and the guest is still intact and migratable afterwards
            MigrationReport again = h.migrate(vm, MigrationRequest.defaults());
            assertTrue(again.succeeded(), again.toLogLine());
        }
    }

    @Test
    void beginRefusesAndChangesNothing() {
        try (TwoHosts h = new TwoHosts(dir)) {
            h.sourceFailpoints.arm("source.begin", Failpoints.Action.ERROR);
            UUID vm = h.start("vm", 1, MEM, WALK);
            MigrationReport r = h.migrate(vm, request());
            assertEquals(MigrationReport.Outcome.FAILED, r.outcome());
            h.assertStillOnSource(vm, VmStatus.RUNNING);
            MigrationReport none = h.migrate(UUID.randomUUID(), request());
            assertInstanceOf(MigrationFailure.Rejected.class, none.failure());
        }
    }

    @Test
    void aTargetThatRefusesLeavesTheSourceRunning() {
        try (TwoHosts h = new TwoHosts(dir)) {
            UUID vm = h.start("vm", 1, MEM, WALK);
            h.target.define(VmSpec.of("vm", 1, MEM, new Workload.Idle())); // the name is taken there
            MigrationReport r = h.migrate(vm, request());
            assertInstanceOf(MigrationFailure.Rejected.class, r.failure(), r.toLogLine());
            assertTrue(r.failure().describe().contains("prepare"), r.toLogLine());
            assertEquals(VmStatus.RUNNING, h.source.vm(vm).status());
        }
    }

    @Test
    void aKilledTargetLeavesTheSourceRunning() {
        try (TwoHosts h = new TwoHosts(dir)) {
            h.targetFailpoints.arm("target.sync.2", Failpoints.Action.CRASH);
            UUID vm = h.start("vm", 1, MEM, WALK);
            MigrationReport r = h.migrate(vm, request());
            assertOnSource(h, vm, r);
            assertEquals(MigrationPhase.PREPARED, h.to.journal().read(r.migrationId(), MigrationJournal.Role.TARGET).orElseThrow().phase(),
                    "a killed target's journal stays where it was");
        }
    }

    @Test
    void aCrashedSourceLeavesTheTargetCleanedUp() {
        try (TwoHosts h = new TwoHosts(dir)) {
            h.sourceFailpoints.arm("source.precopy.iteration.2", Failpoints.Action.CRASH);
            UUID vm = h.start("vm", 1, MEM, WALK);
            MigrationReport r = h.migrate(vm, request());
            assertEquals(new MigrationFailure.Injected("source.precopy.iteration.2", Failpoints.Action.CRASH), r.failure());
            assertFalse(h.target.has(vm), "the target discarded the incoming VM");
            assertEquals(MigrationPhase.PERFORMING, h.from.journal().read(r.migrationId(), MigrationJournal.Role.SOURCE).orElseThrow().phase());
            assertEquals(MigrationJournal.Verdict.ON_SOURCE, MigrationJournal.decide(
                    h.from.journal().read(r.migrationId(), MigrationJournal.Role.SOURCE),
                    h.to.journal().read(r.migrationId(), MigrationJournal.Role.TARGET)));
        }
    }

    @Test
    void aHangingTargetTimesOutAndTheSourceResumes() {
        try (TwoHosts h = new TwoHosts(dir)) {
            h.targetFailpoints.arm("target.finish", Failpoints.Action.HANG);
            UUID vm = h.start("vm", 1, MEM, WALK);
            MigrationReport r = h.migrate(vm, request().withTimeout(Duration.ofSeconds(2)));
            assertInstanceOf(MigrationFailure.TimedOut.class, r.failure(), r.toLogLine());
            assertOnSource(h, vm, r);
        }
    }

    @Test
    void cancelDuringPrecopyResumesTheSource() {
        try (TwoHosts h = new TwoHosts(dir)) {
            h.sourceFailpoints.arm("source.precopy.iteration.2", Failpoints.Action.HANG);
            UUID vm = h.start("vm", 1, MEM, WALK);
            MigrationSource src = h.from.begin(vm, request());
            MigrationTarget dst = h.to.prepare(src.offer());
            CompletableFuture<Void> perform = CompletableFuture.runAsync(() -> src.perform(dst.ticket()));
            org.awaitility.Awaitility.await().until(() -> h.sourceFailpoints.fired().contains("source.precopy.iteration.2"));
            src.cancel("operator");
            MigrationException e = assertThrows(MigrationException.class, () -> {
                try {
                    perform.join();
                } catch (java.util.concurrent.CompletionException c) {
                    throw c.getCause();
                }
            });
            assertInstanceOf(MigrationFailure.Cancelled.class, e.failure());
            dst.abort(e.failure());
            MigrationReport r = src.abort(e.failure());
            assertEquals(MigrationReport.Outcome.CANCELLED, r.outcome());
            assertOnSource(h, vm, r);
        }
    }

    @ParameterizedTest(name = "byte {0} of a frame")
    @ValueSource(ints = {0, 4, 9, 13, 17, 30})
    void aCorruptByteOnTheWireFailsTheMigration(int at) {
        InMemoryTransport t = new InMemoryTransport();
        AtomicInteger writes = new AtomicInteger();
        t.intercept((conn, toTarget, bytes) -> {
            // the 6th frame to the target on channel 0 is a RAM batch of the first iteration
            if (conn == 0 && toTarget && writes.incrementAndGet() == 6 && bytes.length > at) {
                bytes[at] ^= 0x5A;
            }
            return true;
        });
        try (TwoHosts h = new TwoHosts(dir, t)) {
            UUID vm = h.start("vm", 1, MEM, WALK);
            MigrationReport r = h.migrate(vm, request());
            assertInstanceOf(MigrationFailure.StreamCorrupt.class, r.failure(), r.toLogLine());
            if (at >= 16) {
                assertTrue(r.failure().describe().contains("CRC32C"), r.toLogLine());
            }
            assertOnSource(h, vm, r);
        }
    }

    /**
     * The last line of defence: a chunk digest that does not match fails finish (the frame carrying it is
     * re-sealed with a valid CRC32C, so only the comparison of every MiB can tell). Per protocol version:
     * v4 compares CRC32C digests, v3 xxHash64.
     */
    @ParameterizedTest(name = "protocol v{0}")
    @ValueSource(ints = {3, 4})
    void aMemoryDigestThatDoesNotMatchFailsFinishAndTheSourceResumes(int version) {
        InMemoryTransport t = new InMemoryTransport();
        AtomicInteger altered = new AtomicInteger();
        t.intercept((conn, toTarget, bytes) -> {
            // DIGEST payload: first chunk (int), count (int), then one digest (long) per chunk
            if (toTarget && bytes.length >= Wire.HEADER_BYTES + 16 && bytes[4] == Command.DIGEST.code && altered.getAndIncrement() == 0) {
                bytes[Wire.HEADER_BYTES + 8 + 7] ^= 1;
                java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
                crc.update(bytes, 0, 16);
                crc.update(bytes, Wire.HEADER_BYTES, bytes.length - Wire.HEADER_BYTES);
                java.nio.ByteBuffer.wrap(bytes).putInt(16, (int) crc.getValue());
            }
            return true;
        });
        try (TwoHosts h = new TwoHosts(dir, t)) {
            UUID vm = h.start("vm", 1, MEM, WALK);
            h.awaitSteps(vm, 2000);
            MigrationSource src = MigrationSource.begin(h.from, vm, request(), version);
            MigrationTarget dst = h.to.prepare(src.offer());
            src.perform(dst.ticket());
            MigrationException e = assertThrows(MigrationException.class, dst::finish);
            assertInstanceOf(MigrationFailure.DigestMismatch.class, e.failure(), e.getMessage());
            MigrationReport r = src.abort(e.failure());
            assertTrue(altered.get() > 0, "a DIGEST frame went out");
            assertOnSource(h, vm, r);
        }
    }

    @Test
    void aClosedChannelFailsTheMigration() {
        InMemoryTransport t = new InMemoryTransport();
        AtomicInteger writes = new AtomicInteger();
        t.intercept((conn, toTarget, bytes) -> !(conn == 1 && toTarget && writes.incrementAndGet() == 4));
        try (TwoHosts h = new TwoHosts(dir, t)) {
            UUID vm = h.start("vm", 1, MEM, WALK);
            MigrationReport r = h.migrate(vm, request());
            assertInstanceOf(MigrationFailure.PeerLost.class, r.failure(), r.toLogLine());
            assertOnSource(h, vm, r);
        }
    }

    @Test
    void aWrongTokenIsRefusedOnEveryChannel() {
        try (TwoHosts h = new TwoHosts(dir)) {
            UUID vm = h.start("vm", 1, MEM, WALK);
            MigrationSource src = h.from.begin(vm, request());
            MigrationTarget dst = h.to.prepare(src.offer());
            MigrationTicket real = dst.ticket();
            MigrationTicket forged = new MigrationTicket(real.migrationId(), "0".repeat(32), real.endpoint(), real.targetHost());
            MigrationException e = assertThrows(MigrationException.class, () -> src.perform(forged));
            assertInstanceOf(MigrationFailure.Rejected.class, e.failure());
            assertTrue(e.getMessage().contains("token"), e.getMessage());
            assertEquals(MigrationPhase.PREPARED, dst.phase(), "nothing authenticated: the target never started receiving");
            assertTrue(dst.abort(e.failure()));
            MigrationReport r = src.abort(e.failure());
            assertOnSource(h, vm, r);
        }
    }

    /**
     * Chaos schedule "target.activate=error" after a node restart (CI): the prepare reply was lost, so the
     * source gave up before connecting, and the prepared target kept its reservation, memory and listener
     * for good, failing every later invariant on that node. A target no channel reached within the
     * request's timeout now ends itself.
     */
    @Test
    void aPreparedTargetNoSourceConnectsToGivesUpAfterTheTimeout() {
        try (TwoHosts h = new TwoHosts(dir)) {
            UUID vm = h.start("vm", 1, MEM, WALK);
            long before = io.ferryvm.core.machine.GuestMemory.liveBytes();
            MigrationSource src = h.from.begin(vm, request().withTimeout(Duration.ofMillis(300)));
            MigrationTarget dst = h.to.prepare(src.offer());
            assertTrue(io.ferryvm.core.machine.GuestMemory.liveBytes() > before, "prepare reserved the incoming memory");
            await().atMost(TestGuests.LONG).until(() -> dst.phase() == MigrationPhase.ABORTED);
            assertInstanceOf(MigrationFailure.TimedOut.class, dst.failure());
            assertTrue(dst.failure().describe().contains("channels"), dst.failure().describe());
            assertFalse(h.target.has(vm), "the incoming VM is forgotten");
            await().atMost(TestGuests.LONG).until(() -> io.ferryvm.core.machine.GuestMemory.liveBytes() == before);
            MigrationReport r = src.abort(new MigrationFailure.Rejected("prepare", "reply lost"));
            assertOnSource(h, vm, r);
        }
    }

    /** A source that connected in time keeps its target: the watchdog ends only targets nobody reached. */
    @Test
    void theConnectWatchdogLeavesAConnectedTargetAlone() {
        try (TwoHosts h = new TwoHosts(dir)) {
            h.sourceFailpoints.arm("source.precopy.iteration.1", Failpoints.Action.HANG);
            UUID vm = h.start("vm", 1, MEM, WALK);
            MigrationSource src = h.from.begin(vm, request().withTimeout(Duration.ofMillis(300)));
            MigrationTarget dst = h.to.prepare(src.offer());
            java.util.concurrent.CompletableFuture<Void> perform = java.util.concurrent.CompletableFuture.runAsync(
                    () -> src.perform(dst.ticket()));
            await().atMost(TestGuests.LONG).until(() -> h.sourceFailpoints.fired().contains("source.precopy.iteration.1"));
            // the watchdog looked after every channel said HELLO: the target still waits for its source
            await().atMost(TestGuests.LONG).until(dst.watchdogRan()::isDone);
            assertEquals(MigrationPhase.PERFORMING, dst.phase(), String.valueOf(dst.failure()));
            src.cancel("test over");
            await().atMost(TestGuests.LONG).until(perform::isDone);
            dst.abort(new MigrationFailure.Cancelled("test over"));
            src.abort(new MigrationFailure.Cancelled("test over"));
        }
    }

    /**
     * Chaos schedule "source.confirm=hang" (chaos-tests FailpointChaosIT): a cancel arriving while confirm
     * waited blocked on the source's monitor, which confirm held; it ran on the host agent's thread, so the
     * whole agent deadlocked. A cancel now always returns, ends the wait, and confirm still releases the VM.
     */
    @Test
    void aCancelWhileConfirmWaitsNeitherBlocksNorResumesTheSource() {
        try (TwoHosts h = new TwoHosts(dir)) {
            h.sourceFailpoints.arm("source.confirm", Failpoints.Action.HANG);
            UUID vm = h.start("vm", 1, MEM, WALK);
            MigrationSource src = h.from.begin(vm, request());
            MigrationTarget dst = h.to.prepare(src.offer());
            src.perform(dst.ticket());
            MigrationTarget.Finished fin = dst.finish();
            java.util.concurrent.CompletableFuture<MigrationReport> confirm = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> src.confirm(fin));
            await().atMost(TestGuests.LONG).until(() -> h.sourceFailpoints.fired().contains("source.confirm"));
            java.util.concurrent.CompletableFuture<Void> cancel = java.util.concurrent.CompletableFuture.runAsync(
                    () -> src.cancel("cancelled during confirm"));
            await().atMost(TestGuests.LONG).until(cancel::isDone);
            await().atMost(TestGuests.LONG).until(confirm::isDone);
            MigrationReport r = confirm.join();
            assertTrue(r.succeeded(), "the guest runs on the target: " + r.toLogLine());
            assertEquals(VmStatus.RUNNING, h.target.vm(vm).status());
            assertFalse(h.source.has(vm), "released on the source, never resumed");
        }
    }

    /**
     * Chaos schedule "source.confirm=error" (chaos-tests FailpointChaosIT): confirm used to leave the source's
     * copy paused and MIGRATING forever, a second definition no one removed (the directory took it for the
     * source end of a migration still in flight). The source must release it, never resume it.
     */
    @Test
    void aConfirmFailureNeverResumesTheSourceAndStillReleasesIt() {
        try (TwoHosts h = new TwoHosts(dir)) {
            h.sourceFailpoints.arm("source.confirm", Failpoints.Action.ERROR);
            UUID vm = h.start("vm", 1, MEM, WALK);
            MigrationReport r = h.migrate(vm, request());
            assertTrue(r.succeeded(), "the target finished: the guest runs there " + r.toLogLine());
            assertInstanceOf(MigrationFailure.Injected.class, r.failure());
            assertEquals(VmStatus.RUNNING, h.target.vm(vm).status());
            assertFalse(h.source.has(vm), "released on the source (never resumed, never left behind)");
            assertEquals(MigrationJournal.Verdict.ON_TARGET, MigrationJournal.decide(
                    h.from.journal().read(r.migrationId(), MigrationJournal.Role.SOURCE),
                    h.to.journal().read(r.migrationId(), MigrationJournal.Role.TARGET)));
        }
    }
}
