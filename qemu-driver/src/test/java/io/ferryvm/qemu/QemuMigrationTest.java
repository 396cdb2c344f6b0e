package io.ferryvm.qemu;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.machine.Binding;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Live migration of the page-walk guest between two QEMU drivers (two "hosts", each with its own run
 * directory and QEMU process) on 127.0.0.1, checked as QEMU's own migration test does.
 */
class QemuMigrationTest {
    @TempDir
    static Path dir;
    static PageWalkGuest guest;
    QemuDriver sourceHost;
    QemuDriver targetHost;
    QemuGuest source;

    @BeforeAll
    static void build() {
        QemuTestSupport.assumeQemu();
        guest = PageWalkGuest.build(dir.resolve("guest"), QemuTestSupport.WALK_START, QemuTestSupport.WALK_END);
    }

    @BeforeEach
    void startSource(org.junit.jupiter.api.TestInfo info) {
        String name = info.getTestMethod().orElseThrow().getName() + "-" + System.nanoTime() % 100000;
        sourceHost = new QemuDriver(QemuTestSupport.tcg(dir.resolve(name).resolve("host-a")));
        targetHost = new QemuDriver(QemuTestSupport.tcg(dir.resolve(name).resolve("host-b")));
        VmSpec spec = QemuTestSupport.spec("walker", 1, guest.disk(), "raw");
        source = sourceHost.launch(spec, Binding.NONE);
        // The walker has zeroed its range and finished at least one full round of 64 passes.
        await().atMost(Duration.ofSeconds(60)).until(() -> source.serialOutput().contains(PageWalkGuest.BANNER + "\nB"));
    }

    @AfterEach
    void tearDown() {
        if (sourceHost != null) {
            sourceHost.close();
            targetHost.close();
        }
    }

    static Stream<QemuMigrationOptions> modes() {
        // A generous downtime limit: TCG, two QEMUs and the build share two cores, and convergence is not what is tested here.
        Duration limit = Duration.ofSeconds(2);
        return Stream.of(QemuMigrationOptions.direct().withDowntimeLimit(limit),
                QemuMigrationOptions.direct().withMultifd(2).withDowntimeLimit(limit),
                QemuMigrationOptions.direct().withMultifd(2).withPreallocate(true).withDowntimeLimit(limit),
                QemuMigrationOptions.tunnelled().withDowntimeLimit(limit));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("modes")
    void guestMemoryKeepsThePageWalkRuleOnTheTarget(QemuMigrationOptions options) {
        QemuMigrationReport r = QemuMigration.run(source, targetHost, Binding.NONE, options);
        assertTrue(r.succeeded(), r.toLogLine());
        assertEquals(VmStatus.STOPPED, source.status(), "the source QEMU quits at confirm");
        assertThrows(io.ferryvm.core.CoreException.class, () -> sourceHost.guest(source.spec().id()), "the source host forgot the guest");
        QemuGuest target = targetHost.guest(source.spec().id());
        assertEquals(VmStatus.RUNNING, target.status());
        assertTrue(r.ramBytes() > 0 && r.wireBytes() > 0, r.toLogLine());
        if (options.mode() == QemuMigrationOptions.Mode.TUNNELLED) {
            // The walker's pages are one byte and 4095 zeros: LZ4 must shrink the stream a lot.
            assertTrue(r.wireBytes() * 4 < r.streamBytes(), r.toLogLine());
        }
        // The guest goes on where it was (no second banner: it did not reboot) and keeps walking.
        await().atMost(Duration.ofSeconds(60)).until(() -> target.serialOutput().contains("B"));
        assertFalse(target.serialOutput().contains(PageWalkGuest.BANNER), target.serialOutput());
        target.pause();
        Path dump = target.directory().resolve("walk.mem");
        target.saveMemory(guest.walkStart(), guest.walkEnd() - guest.walkStart(), dump);
        PageWalkRule.Result check = PageWalkRule.checkDump(dump, guest.pages());
        assertTrue(check.ok(), "memory after migration: " + check.violations());
    }

    @Test
    void postcopyAfterTwoPassesFinishesOnTheTargetWithMemoryIntact() {
        // A 1 ms downtime limit never converges in pre-copy: the switch to post-copy is what completes it.
        QemuMigrationReport r = QemuMigration.run(source, targetHost, Binding.NONE,
                QemuMigrationOptions.direct().withDowntimeLimit(Duration.ofMillis(1)).withPostcopy(2));
        assertTrue(r.succeeded(), r.toLogLine());
        assertTrue(r.passes() >= 2, r.toLogLine());
        QemuGuest target = targetHost.guest(source.spec().id());
        await().atMost(Duration.ofSeconds(60)).until(() -> target.serialOutput().contains("B"));
        target.pause();
        Path dump = target.directory().resolve("walk.mem");
        target.saveMemory(guest.walkStart(), guest.walkEnd() - guest.walkStart(), dump);
        PageWalkRule.Result check = PageWalkRule.checkDump(dump, guest.pages());
        assertTrue(check.ok(), "memory after post-copy: " + check.violations());
    }

    @Test
    void cancelMidMigrationLeavesTheSourceRunning() {
        // 2 MB/s for ~40 MB of walked pages: the migration is still copying when it is cancelled.
        QemuMigration m = QemuMigration.begin(source, QemuMigrationOptions.direct().withMaxBandwidth(2_000_000));
        m.prepare(targetHost, Binding.NONE);
        QemuGuest target = m.target();
        CompletableFuture<QemuMigrationReport> run = CompletableFuture.supplyAsync(m::perform);
        await().atMost(Duration.ofSeconds(60)).until(() -> m.progress().transferred() > 1_000_000);
        m.cancel();
        CompletionException e = assertThrows(CompletionException.class, run::join);
        QemuException q = (QemuException) e.getCause();
        assertEquals(QemuException.Kind.MIGRATION, q.kind());
        assertTrue(q.getMessage().contains("outcome=cancelled"), q.getMessage());
        assertSourceStillRuns(target);
    }

    @Test
    void targetDyingMidTunnelledMigrationLeavesTheSourceRunning() {
        QemuMigration m = QemuMigration.begin(source, QemuMigrationOptions.tunnelled().withTunnelRateLimit(300_000).withLz4(false));
        m.prepare(targetHost, Binding.NONE);
        QemuGuest target = m.target();
        CompletableFuture<QemuMigrationReport> run = CompletableFuture.supplyAsync(m::perform);
        await().atMost(Duration.ofSeconds(60)).until(() -> m.progress().transferred() > 500_000);
        target.destroy();
        CompletionException e = assertThrows(CompletionException.class, run::join);
        assertEquals(QemuException.Kind.MIGRATION, ((QemuException) e.getCause()).kind());
        assertTrue(e.getCause().getMessage().contains("outcome=failed"), e.getCause().getMessage());
        assertSourceStillRuns(target);
    }

    private void assertSourceStillRuns(QemuGuest target) {
        assertEquals(VmStatus.STOPPED, target.status(), "the target QEMU is gone");
        await().atMost(Duration.ofSeconds(30)).until(() -> source.status() == VmStatus.RUNNING);
        assertEquals("running", source.runState());
        long before = source.serialOutput().chars().filter(c -> c == 'B').count();
        await().atMost(Duration.ofSeconds(60)).until(() -> source.serialOutput().chars().filter(c -> c == 'B').count() > before);
    }
}
