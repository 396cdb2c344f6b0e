package io.ferryvm.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.machine.GuestMemory;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Pre-copy migrations checked by the guest itself: QEMU's pagewalk rule and the unmigrated twin. */
class MigrationTest {
    private static final long MEM = 32L << 20;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} channel(s)")
    @ValueSource(ints = {1, 2, 4})
    void pagewalkGuestKeepsQemusMemoryRule(int channels) {
        try (TwoHosts h = new TwoHosts(dir)) {
            Workload.PageWalk w = new Workload.PageWalk(1 << 20, 16 << 20, 40);
            UUID vm = h.start("walk", 2, MEM, w);
            h.awaitSteps(vm, 3000);
            MigrationReport r = h.migrate(vm, MigrationRequest.defaults().withChannels(channels));
            assertTrue(r.succeeded(), r.toLogLine());
            assertEquals(channels, r.channels());
            assertFalse(h.source.has(vm), "the source released the VM");
            assertTrue(r.iterations() >= 1);
            assertTrue(r.pages(CodecId.LZ4) > 0 && r.pages(CodecId.ZERO) > 0, r.toLogLine());
            Guests.assertPageWalkIntact(h.target, vm, w, 2);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Compression.class)
    void hotsetGuestMatchesItsTwinWithEveryCodec(Compression c) {
        try (TwoHosts h = new TwoHosts(dir)) {
            Workload w = new Workload.HotSet(0, 4 << 20, 1.0, 0, 7); // unthrottled: pages are re-dirtied in every iteration
            UUID vm = h.start("hot", 2, MEM, w);
            h.awaitSteps(vm, 4000);
            MigrationReport r = h.migrate(vm, MigrationRequest.defaults().withCompression(c).withDowntimeLimit(java.time.Duration.ofNanos(1))
                    .withMaxIterations(4).withNonConvergence(MigrationRequest.NonConvergence.FORCE));
            assertTrue(r.succeeded(), r.toLogLine());
            if (c == Compression.NONE) {
                assertEquals(0, r.pages(CodecId.LZ4) + r.pages(CodecId.XOR_LZ4), r.toLogLine());
                assertTrue(r.pages(CodecId.RAW) > 0);
            } else {
                assertTrue(r.pages(CodecId.LZ4) > 0, r.toLogLine());
            }
            assertEquals(4, r.iterations(), r.toLogLine());
            if (c == Compression.XOR_LZ4) {
                assertTrue(r.pages(CodecId.XOR_LZ4) > 0 && r.xorHitRate() > 0, r.toLogLine());
            }
            assertEquals(VmStatus.RUNNING, h.target.vm(vm).status());
            Guests.assertTwinDigest(h.target, vm, w, MEM, 2, 3000);
        }
    }

    @Test
    void randomGuestOverTcpMatchesItsTwin() {
        try (TwoHosts h = new TwoHosts(dir, new TcpTransport())) {
            Workload w = new Workload.RandomWrites(30, 11);
            UUID vm = h.start("rnd", 2, MEM, w);
            h.awaitSteps(vm, 3000);
            MigrationReport r = h.migrate(vm, MigrationRequest.defaults().withChannels(2).withCompression(Compression.XOR_LZ4));
            assertTrue(r.succeeded(), r.toLogLine());
            assertTrue(r.wireBytes() > 0 && r.downtime().toNanos() > 0, r.toLogLine());
            Guests.assertTwinDigest(h.target, vm, w, MEM, 2, 2000);
        }
    }

    @Test
    void stopAndCopyBaselineMatchesItsTwin() {
        try (TwoHosts h = new TwoHosts(dir)) {
            Workload w = new Workload.HotSet(0, 8 << 20, 0.9, 30, 3);
            UUID vm = h.start("sac", 1, MEM, w);
            h.awaitSteps(vm, 2000);
            MigrationReport r = h.migrate(vm, MigrationRequest.defaults().withStopAndCopy(true));
            assertTrue(r.succeeded(), r.toLogLine());
            assertEquals("stop-and-copy", r.mode());
            assertEquals(0, r.iterations());
            assertEquals(MEM / 4096, r.pages(CodecId.ZERO) + r.pages(CodecId.LZ4) + r.pages(CodecId.RAW), "every page exactly once");
            Guests.assertTwinDigest(h.target, vm, w, MEM, 1, 2000);
        }
    }

    @Test
    void fillGuestContentArrivesExactly() {
        try (TwoHosts h = new TwoHosts(dir)) {
            Workload w = new Workload.Fill(40, 30, 5);
            UUID vm = h.start("fill", 2, MEM, w);
            h.awaitSteps(vm, MEM / 4096 / 2); // each vCPU fills its half, then halts
            MigrationReport r = h.migrate(vm, MigrationRequest.defaults());
            assertTrue(r.succeeded(), r.toLogLine());
            assertTrue(r.pages(CodecId.RAW) > 0 && r.pages(CodecId.LZ4) > 0 && r.pages(CodecId.ZERO) > 0, r.toLogLine());
            assertTrue(r.wireBytes() < MEM, "compression and zero pages save bytes: " + r.toLogLine());
            Guests.assertTwinDigest(h.target, vm, w, MEM, 2, 0);
        }
    }

    /**
     * QEMU's -mem-prealloc on the destination: with preallocate the target's memory is all backed when
     * prepare returns (before the source sends a page); without it nothing is backed yet. Either way the
     * guest arrives exactly. Needs Linux pagemap to tell backed from unbacked pages.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void aPreallocatingTargetBacksAllMemoryBeforeTheFirstPage(boolean preallocate) {
        try (TwoHosts h = new TwoHosts(dir)) {
            Workload w = new Workload.Fill(40, 30, 6);
            UUID vm = h.start("prealloc", 2, MEM, w);
            h.awaitSteps(vm, MEM / 4096 / 2);
            MigrationSource src = h.from.begin(vm, MigrationRequest.defaults().withPreallocate(preallocate));
            MigrationTarget dst = h.to.prepare(src.offer());
            GuestMemory incoming = dst.vm().incomingMemory();
            long unbacked = 0;
            long[] bits = new long[GuestMemory.chunkPages() / 64];
            for (long p = 0; p < incoming.pageCount(); p += GuestMemory.chunkPages()) {
                assumeTrue(incoming.untouchedPages(p, GuestMemory.chunkPages(), bits), "no /proc/self/pagemap here: cannot tell backed pages");
                unbacked += Arrays.stream(bits).map(Long::bitCount).sum();
            }
            assertEquals(preallocate ? 0 : incoming.pageCount(), unbacked, "pages not backed by host memory after prepare");
            src.perform(dst.ticket());
            MigrationReport r = src.confirm(dst.finish());
            assertTrue(r.succeeded(), r.toLogLine());
            Guests.assertTwinDigest(h.target, vm, w, MEM, 2, 0);
        }
    }

    @Test
    void aPreviousProtocolVersionSourceStillMigrates() {
        try (TwoHosts h = new TwoHosts(dir)) {
            Workload.PageWalk w = new Workload.PageWalk(0, 8 << 20, 30);
            UUID vm = h.start("v2", 1, MEM, w);
            h.awaitSteps(vm, 2000);
            // v2: no SYNC acknowledgements (the target must not send any: a v2 source would refuse them).
            MigrationSource src = MigrationSource.begin(h.from, vm, MigrationRequest.defaults().withCompression(Compression.XOR_LZ4)
                    .withDowntimeLimit(java.time.Duration.ofNanos(1)).withMaxIterations(4)
                    .withNonConvergence(MigrationRequest.NonConvergence.FORCE), 2);
            assertEquals(2, src.offer().protocolVersion());
            MigrationTarget dst = h.to.prepare(src.offer());
            src.perform(dst.ticket());
            MigrationReport r = src.confirm(dst.finish());
            assertTrue(r.succeeded(), r.toLogLine());
            assertEquals(4, r.iterations(), r.toLogLine());
            Guests.assertPageWalkIntact(h.target, vm, w, 1);
        }
    }

    /** v3 hashed each MiB with xxHash64 (v4: CRC32C): the target must hash a v3 source's chunks the v3 way. */
    @Test
    void aV3SourceWithXxHashDigestsStillMigrates() {
        try (TwoHosts h = new TwoHosts(dir)) {
            Workload w = new Workload.Fill(40, 30, 7);
            UUID vm = h.start("v3", 2, MEM, w);
            h.awaitSteps(vm, MEM / 4096 / 2);
            MigrationSource src = MigrationSource.begin(h.from, vm, MigrationRequest.defaults(), 3);
            assertEquals(3, src.offer().protocolVersion());
            MigrationTarget dst = h.to.prepare(src.offer());
            src.perform(dst.ticket());
            MigrationTarget.Finished fin = dst.finish();
            assertTrue(fin.digestVerified(), "every MiB compared");
            MigrationReport r = src.confirm(fin);
            assertTrue(r.succeeded(), r.toLogLine());
            Guests.assertTwinDigest(h.target, vm, w, MEM, 2, 0);
        }
    }

    @Test
    void aSourceBeyondThePreviousVersionIsRefusedAndKeepsTheGuest() {
        try (TwoHosts h = new TwoHosts(dir)) {
            UUID vm = h.start("v1", 1, MEM, new Workload.PageWalk(0, 8 << 20, 30));
            MigrationSource src = MigrationSource.begin(h.from, vm, MigrationRequest.defaults(), 1);
            MigrationException e = org.junit.jupiter.api.Assertions.assertThrows(MigrationException.class, () -> h.to.prepare(src.offer()));
            org.junit.jupiter.api.Assertions.assertInstanceOf(MigrationFailure.Rejected.class, e.failure());
            assertTrue(e.getMessage().contains("v1"), e.getMessage());
            MigrationReport r = src.abort(e.failure());
            assertFalse(r.succeeded());
            h.assertStillOnSource(vm, VmStatus.RUNNING);
        }
    }

    @Test
    void progressEventsAndJournalFollowThePhases() {
        try (TwoHosts h = new TwoHosts(dir)) {
            UUID vm = h.start("idle", 1, MEM, new Workload.Idle());
            MigrationReport r = h.migrate(vm, MigrationRequest.defaults());
            assertTrue(r.succeeded(), r.toLogLine());
            java.util.List<MigrationPhase> phases = h.events.stream().map(MigrationEvent::phase).distinct().toList();
            assertEquals(java.util.List.of(MigrationPhase.BEGUN, MigrationPhase.PERFORMING, MigrationPhase.SWITCHED_OVER,
                    MigrationPhase.CONFIRMED), phases);
            assertEquals(MigrationPhase.CONFIRMED, h.from.journal().read(r.migrationId(), MigrationJournal.Role.SOURCE).orElseThrow().phase());
            assertEquals(MigrationPhase.FINISHED, h.to.journal().read(r.migrationId(), MigrationJournal.Role.TARGET).orElseThrow().phase());
            assertEquals(MigrationJournal.Verdict.ON_TARGET, MigrationJournal.decide(
                    h.from.journal().read(r.migrationId(), MigrationJournal.Role.SOURCE),
                    h.to.journal().read(r.migrationId(), MigrationJournal.Role.TARGET)));
            assertEquals(MEM / 4096, r.pages(CodecId.ZERO), "an idle guest is all zero pages");
            assertTrue(r.toLogLine().startsWith("migration id=" + r.migrationId()));
        }
    }
}
