package io.ferryvm.migration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.machine.GuestMemory;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The small parts, driven by hand: codecs, rate limiter, convergence estimate, failpoints, journal rule. */
class UnitsTest {
    private static final class ManualTicker implements io.ferryvm.core.Ticker {
        final AtomicLong now = new AtomicLong(1_000_000_000L);

        @Override
        public long nanos() {
            return now.get();
        }

        void advanceMillis(long ms) {
            now.addAndGet(ms * 1_000_000L);
        }
    }

    @Test
    void everyCodecRoundTripsAndIncompressiblePagesGoRaw() throws Exception {
        SplittableRandom r = new SplittableRandom(3);
        try (GuestMemory src = GuestMemory.allocate(1 << 20); GuestMemory dst = GuestMemory.allocate(1 << 20)) {
            byte[] random = new byte[4096];
            r.nextBytes(random);
            src.writePage(1, random, 0); // incompressible
            src.putLong(2 * 4096, 42); // compressible
            List<ByteBuffer> frames = new ArrayList<>();
            PageEncoder enc = new PageEncoder(src, Compression.XOR_LZ4, 1 << 20, b -> {
                ByteBuffer copy = ByteBuffer.allocate(b.remaining());
                copy.put(b).flip();
                frames.add(copy);
            });
            assertEquals(CodecId.ZERO, enc.encode(0, true, true));
            assertEquals(CodecId.RAW, enc.encode(1, true, true));
            assertEquals(CodecId.LZ4, enc.encode(2, true, true));
            src.putByte(2 * 4096 + 100, (byte) 7); // re-dirtied with a small change
            enc.flush();
            assertEquals(CodecId.XOR_LZ4, enc.encode(2, true, true));
            enc.flush();
            RamBatch batch = new RamBatch();
            for (ByteBuffer f : frames) {
                batch.decode(f, 2, dst, 0, 1, false);
                for (int i = 0; i < batch.count(); i++) {
                    batch.write(i, dst);
                }
            }
            for (long p = 0; p < 3; p++) {
                byte[] a = new byte[4096];
                byte[] b = new byte[4096];
                src.readPage(p, a, 0);
                dst.readPage(p, b, 0);
                assertArrayEquals(a, b, "page " + p);
            }
            assertEquals(1, enc.xorHits());
        }
    }

    /**
     * Random data costs LZ4 almost nothing: after 64 incompressible pages in a row only one page in 16 is
     * tried, until a tried page shrinks; from then on every page is tried again.
     */
    @Test
    void afterAStreakOfIncompressiblePagesLz4IsTriedOnOnePageInSixteenUntilOneShrinks() throws Exception {
        SplittableRandom r = new SplittableRandom(11);
        try (GuestMemory src = GuestMemory.allocate(1 << 20)) {
            byte[] page = new byte[4096];
            for (long p = 0; p < 224; p++) {
                r.nextBytes(page);
                src.writePage(p, page, 0);
            }
            byte[] text = "mov rax, [rip+0x10]\n".repeat(300).substring(0, 4096).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            for (long p = 224; p < 256; p++) {
                src.writePage(p, text, 0);
            }
            PageEncoder enc = new PageEncoder(src, Compression.LZ4, 0, b -> b.position(b.limit()));
            for (long p = 0; p < 224; p++) {
                assertEquals(CodecId.RAW, enc.encode(p, false, false), "page " + p);
            }
            assertEquals(64 + 160 / 16, enc.lz4Attempts(), "64 tries, then every 16th of the next 160 pages");
            // Compressible again from page 224, but only the next tried page (the 176th after the streak) notices.
            for (long p = 224; p < 239; p++) {
                assertEquals(CodecId.RAW, enc.encode(p, false, false), "page " + p + " is not tried");
            }
            assertEquals(CodecId.LZ4, enc.encode(239, false, false));
            for (long p = 240; p < 256; p++) {
                assertEquals(CodecId.LZ4, enc.encode(p, false, false), "page " + p + ": every page is tried again");
            }
            assertEquals(64 + 11 + 16, enc.lz4Attempts());
            enc.close();
        }
    }

    @Test
    void theRateLimiterLetsABurstThroughThenMakesWritersWait() {
        ManualTicker t = new ManualTicker();
        RateLimiter l = new RateLimiter(10L << 20, t); // 10 MiB/s: a burst of 1 MiB
        assertEquals(0, l.reserve(1 << 20));
        long wait = l.reserve(1 << 20);
        assertEquals(100, wait / 1_000_000, 1, "1 MiB more at 10 MiB/s waits about 100 ms");
        t.advanceMillis(1000);
        assertEquals(0, l.reserve(512 << 10), "a second later the bucket is full again");
    }

    @Test
    void theEstimateUsesTheSlowestOfTheLastThreeIterations() {
        ManualTicker t = new ManualTicker();
        ConvergenceEstimator e = new ConvergenceEstimator(t);
        assertEquals(Long.MAX_VALUE, e.expectedDowntimeNanos(10, 1, 1), "unknown before any iteration");
        assertEquals(ConvergenceEstimator.ACTIVATION_ALLOWANCE_NANOS, e.expectedDowntimeNanos(0, 0, 1),
                "before this host measured an activation, the allowance");
        e.activationCost(1_000_000L);
        long[] pagesPerSecond = {100_000, 20_000, 50_000, 80_000};
        for (long pps : pagesPerSecond) {
            e.iterationStarted();
            t.advanceMillis(100);
            e.iterationEnded(pps / 10, 1);
        }
        assertEquals(20_000, e.pagesPerSecond(), 1, "one fast window does not make it optimistic");
        e.iterationStarted();
        t.advanceMillis(100);
        e.iterationEnded(9_000, 1);
        assertEquals(50_000, e.pagesPerSecond(), 1, "the slow window has aged out");
        assertEquals(100_000_000L + 300_000L + 1_000_000L, e.expectedDowntimeNanos(5_000, 1, 1));
        e.switchoverCost(7_000_000L);
        e.switchoverCost(2_000_000L);
        assertEquals(100_000_000L + 300_000L + 7_000_000L, e.expectedDowntimeNanos(5_000, 1, 1),
                "every switch-over pays the slowest durable journal write seen (activation includes it: the larger counts)");
        assertEquals(7_000_000L, e.expectedDowntimeNanos(0, 0, 1), "even with nothing left to copy");
        t.advanceMillis(500);
        assertEquals(1_000, e.harvested(1_000), 1, "1000 pages dirtied in the 1 s since the estimator started");

        ConvergenceEstimator f = new ConvergenceEstimator(t);
        f.iterationStarted();
        t.advanceMillis(100);
        f.iterationEnded(1_000, 1);
        assertEquals(10_000, f.pagesPerSecond(), 1, "the first iteration is all there is to go by");
        f.iterationStarted();
        t.advanceMillis(100);
        f.iterationEnded(4_000, 1);
        assertEquals(40_000, f.pagesPerSecond(), 1, "the first iteration's one-time costs stop counting once another is measured");
    }

    @Test
    void failpointsParseFromTheEnvironmentSyntaxAndRefuseUnknownPoints() {
        Failpoints f = Failpoints.parse("target.finish=hang, source.precopy.iteration.3=error");
        java.util.concurrent.CountDownLatch open = new java.util.concurrent.CountDownLatch(0);
        f.hit("source.precopy.iteration", 2, open);
        MigrationException e = assertThrows(MigrationException.class, () -> f.hit("source.precopy.iteration", 3, open));
        assertEquals(new MigrationFailure.Injected("source.precopy.iteration.3", Failpoints.Action.ERROR), e.failure());
        MigrationException h = assertThrows(MigrationException.class, () -> f.hit("target.finish", open));
        assertTrue(h.failure() instanceof MigrationFailure.Cancelled, "a hang ends once the migration is aborted");
        assertThrows(IllegalArgumentException.class, () -> Failpoints.parse("nowhere=crash"));
        assertThrows(IllegalArgumentException.class, () -> Failpoints.parse("target.finish"));
        assertEquals(java.util.Set.of("source.precopy.iteration.3", "target.finish"), f.fired());
    }

    @Test
    void aRealCrashRunsTheHaltSeamFirstAndRearmingReplacesEverythingOrNothing() {
        java.util.concurrent.atomic.AtomicInteger halts = new java.util.concurrent.atomic.AtomicInteger();
        Failpoints f = Failpoints.parse("target.ready=crash,source.state=error").crashingProcessWith(halts::incrementAndGet);
        java.util.concurrent.CountDownLatch open = new java.util.concurrent.CountDownLatch(0);
        MigrationException e = assertThrows(MigrationException.class, () -> f.hit("source.state", open));
        assertEquals(0, halts.get(), "an ERROR never halts");
        assertEquals(Failpoints.Action.ERROR, ((MigrationFailure.Injected) e.failure()).action());
        MigrationException c = assertThrows(MigrationException.class, () -> f.hit("target.ready", open));
        assertEquals(1, halts.get(), "a CRASH halts the process when crashes are real");
        assertTrue(Failpoints.isCrash(c.failure()), "a halt seam that returns still leaves the side crashed");

        assertThrows(IllegalArgumentException.class, () -> f.rearm("target.finish=hang,nowhere=error"));
        assertEquals(java.util.Map.of("target.ready", Failpoints.Action.CRASH, "source.state", Failpoints.Action.ERROR), f.armed(),
                "a bad spec changes nothing");
        f.rearm("source.confirm=error");
        assertEquals(java.util.Map.of("source.confirm", Failpoints.Action.ERROR), f.armed());
        assertTrue(f.fired().isEmpty(), "what fired under the old arming is forgotten");
        f.hit("target.ready", open); // disarmed now
        f.rearm(" ");
        assertTrue(f.armed().isEmpty());
    }

    @Test
    void theJournalRuleDecidesWhereTheGuestLives() {
        UUID id = UUID.randomUUID();
        UUID vm = UUID.randomUUID();
        java.util.function.BiFunction<MigrationJournal.Role, MigrationPhase, Optional<MigrationJournal.Entry>> e =
                (role, p) -> Optional.of(new MigrationJournal.Entry(id, vm, "vm", role, p, "", 0, ""));
        MigrationJournal.Role s = MigrationJournal.Role.SOURCE;
        MigrationJournal.Role t = MigrationJournal.Role.TARGET;
        assertEquals(MigrationJournal.Verdict.UNKNOWN, MigrationJournal.decide(Optional.empty(), Optional.empty()));
        assertEquals(MigrationJournal.Verdict.ON_SOURCE, MigrationJournal.decide(e.apply(s, MigrationPhase.PERFORMING), Optional.empty()));
        assertEquals(MigrationJournal.Verdict.ON_SOURCE,
                MigrationJournal.decide(e.apply(s, MigrationPhase.SWITCHED_OVER), e.apply(t, MigrationPhase.PREPARED)));
        assertEquals(MigrationJournal.Verdict.ON_TARGET,
                MigrationJournal.decide(e.apply(s, MigrationPhase.SWITCHED_OVER), e.apply(t, MigrationPhase.FINISHED)));
        assertEquals(MigrationJournal.Verdict.ON_TARGET, MigrationJournal.decide(e.apply(s, MigrationPhase.CONFIRMED), Optional.empty()));
        assertEquals(MigrationJournal.Verdict.LOST,
                MigrationJournal.decide(e.apply(s, MigrationPhase.SWITCHED_OVER), e.apply(t, MigrationPhase.POSTCOPY)));
        assertEquals(MigrationJournal.Verdict.ON_TARGET,
                MigrationJournal.decide(e.apply(s, MigrationPhase.POSTCOPY), e.apply(t, MigrationPhase.FINISHED)));
    }

    @Test
    void theJournalSurvivesAReopen(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        MigrationJournal j = new MigrationJournal(dir.resolve("migrations"));
        MigrationJournal.Entry en = new MigrationJournal.Entry(UUID.randomUUID(), UUID.randomUUID(), "vm",
                MigrationJournal.Role.TARGET, MigrationPhase.FINISHED, "src", 5, "ok");
        j.record(en);
        assertEquals(Optional.of(en), new MigrationJournal(dir.resolve("migrations")).read(en.migrationId(), MigrationJournal.Role.TARGET));
        assertEquals(List.of(en), new MigrationJournal(dir.resolve("migrations")).entries());
    }

    @Test
    void aRequestRefusesNonsense() {
        MigrationRequest d = MigrationRequest.defaults();
        assertEquals(java.time.Duration.ofMillis(300), d.downtimeLimit());
        assertThrows(IllegalArgumentException.class, () -> d.withChannels(0));
        assertThrows(IllegalArgumentException.class, () -> d.withChannels(17));
        assertThrows(IllegalArgumentException.class, () -> d.withBandwidth(-1));
        assertThrows(IllegalArgumentException.class, () -> d.withMaxIterations(0));
        assertThrows(IllegalArgumentException.class, () -> new MigrationTicket(UUID.randomUUID(), "xyz", new Endpoint("mem", "a"), "h"));
    }

    @Test
    void theProtocolVersionWindowIsCurrentAndTheTwoBefore() {
        assertEquals(4, Wire.PROTOCOL.current());
        assertEquals(2, Wire.PROTOCOL.minReadable());
        Wire.PROTOCOL.checkReadable(2, "test");
        Wire.PROTOCOL.checkReadable(3, "test");
        Wire.PROTOCOL.checkReadable(4, "test");
        assertThrows(io.ferryvm.core.CoreException.class, () -> Wire.PROTOCOL.checkReadable(1, "test"));
        assertThrows(io.ferryvm.core.CoreException.class, () -> Wire.PROTOCOL.checkReadable(5, "test"));
        ByteBuffer xor = ByteBuffer.allocate(16);
        xor.put((byte) CodecId.XOR_LZ4.wire).putShort((short) 1).putInt(0).flip();
        try (GuestMemory m = GuestMemory.allocate(1 << 20)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new RamBatch().decode(xor, 1, m, 0, 1, false));
            assertTrue(e.getMessage().contains("v1"), e.getMessage());
        }
    }

    /** As the target's receiver installs a decoded batch (lazy memory: a zero page over never-written memory is skipped). */
    private static void install(RamBatch batch, ChunkLedger ledger, GuestMemory m) {
        for (int i = 0; i < batch.count(); i++) {
            if (ledger.installed(batch.page(i), batch.isZero(i))) {
                if (!batch.isZero(i)) {
                    ledger.populateFor(batch.page(i));
                }
                batch.write(i, m);
            }
        }
    }

    @Test
    void aZeroPageOverDataIsWrittenAndOverNeverWrittenMemoryIsNot() throws Exception {
        try (GuestMemory src = GuestMemory.allocate(2 << 20); GuestMemory dst = GuestMemory.allocate(2 << 20, io.ferryvm.core.machine.MemoryPolicy.DEFAULT, false)) {
            ChunkLedger ledger = new ChunkLedger(dst, Wire.PROTOCOL.current());
            RamBatch batch = new RamBatch();
            List<ByteBuffer> frames = new ArrayList<>();
            PageEncoder enc = new PageEncoder(src, Compression.LZ4, 0, b -> {
                ByteBuffer copy = ByteBuffer.allocate(b.remaining());
                copy.put(b).flip();
                frames.add(copy);
            });
            // Round 1: page 5 holds data, page 6 is zero (never written on either side).
            src.putLong(5L * 4096 + 64, 0x1234_5678_9ABCL);
            enc.encode(5, false, false);
            enc.encode(6, false, false);
            enc.flush();
            for (ByteBuffer f : frames) {
                batch.decode(f, Wire.PROTOCOL.current(), dst, 0, 1, false);
                install(batch, ledger, dst);
            }
            ledger.refreshStale(0, 1);
            assertEquals(src.chunkDigest(0), dst.chunkDigest(0));
            assertEquals(dst.chunkCrc32c(0), ledger.hash(0), "v4: CRC32C per MiB");
            // Round 2: the guest zeroed page 5 again: the target must overwrite its data with zeros.
            frames.clear();
            src.zeroPage(5);
            enc.encode(5, true, false);
            enc.flush();
            assertEquals(1, frames.size());
            batch.decode(frames.get(0), Wire.PROTOCOL.current(), dst, 0, 1, false);
            assertTrue(batch.isZero(0));
            install(batch, ledger, dst);
            ledger.refreshStale(0, 1);
            assertTrue(dst.isZeroPage(5), "a zero page over data is written");
            assertEquals(0, ledger.hash(0), "an all-zero chunk hashes as the source's does (0)");
            enc.close();
        }
    }
}
