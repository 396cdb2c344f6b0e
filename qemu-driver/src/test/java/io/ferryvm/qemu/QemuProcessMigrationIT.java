package io.ferryvm.qemu;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.migration.HypervisorMigration;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * Live migration of the page-walk guest from this JVM (the source Ferry host) to a target Ferry host that
 * is another OS process ({@link TargetHostMain}, started with this JVM's classpath): the target prepares its
 * incoming QEMU and receives the tunnelled stream on 127.0.0.1; the source drives it only through
 * {@link HypervisorMigration.Target} over the process's stdin/stdout.
 */
class QemuProcessMigrationIT {
    @TempDir
    static Path dir;
    static PageWalkGuest guest;
    QemuDriver sourceHost;
    QemuGuest source;
    TargetHostProcess targetHost;
    Path runDir;

    @BeforeAll
    static void build() {
        QemuTestSupport.assumeQemu();
        guest = PageWalkGuest.build(dir.resolve("guest"), QemuTestSupport.WALK_START, QemuTestSupport.WALK_END);
    }

    @BeforeEach
    void startSource(TestInfo info) {
        runDir = dir.resolve(info.getTestMethod().orElseThrow().getName());
        sourceHost = new QemuDriver(QemuTestSupport.tcg(runDir.resolve("host-a")));
        VmSpec spec = QemuTestSupport.spec("walker", 1, guest.disk(), "raw");
        source = sourceHost.launch(spec, Binding.NONE);
        await().atMost(Duration.ofSeconds(60)).until(() -> source.serialOutput().contains(PageWalkGuest.BANNER + "\nB"));
    }

    @AfterEach
    void tearDown() {
        try {
            if (targetHost != null) {
                targetHost.close();
            }
        } finally {
            if (sourceHost != null) {
                sourceHost.close();
            }
        }
    }

    @Test
    void tunnelledMigrationIntoAnotherFerryProcessKeepsThePageWalkRule() {
        QemuMigration m = QemuMigration.begin(source, QemuMigrationOptions.tunnelled().withDowntimeLimit(Duration.ofSeconds(2)));
        targetHost = TargetHostProcess.start(runDir.resolve("host-b"), guest, source, true);
        m.attach(targetHost);
        long targetQemu = Long.parseLong(targetHost.status().split(" ")[2]);
        // Two processes in earnest: the target QEMU is the other JVM's child, not this one's.
        assertTrue(ProcessHandle.of(targetQemu).flatMap(ProcessHandle::parent).map(ProcessHandle::pid).orElse(-1L) == targetHost.pid(),
                "target QEMU " + targetQemu + " should be a child of the target host process " + targetHost.pid());
        assertFalse(ProcessHandle.current().children().anyMatch(p -> p.pid() == targetQemu));

        QemuMigrationReport r = m.perform();
        System.out.println(r.toLogLine());

        assertTrue(r.succeeded(), r.toLogLine());
        assertTrue(r.wireBytes() * 4 < r.streamBytes(), "LZ4 through the tunnel: " + r.toLogLine());
        assertTrue(r.downtimeMs() >= 0, "source STOP and target RESUME both seen: " + r.toLogLine());
        assertEquals(VmStatus.STOPPED, source.status(), "the source QEMU quits at confirm");
        assertEquals("STATUS RUNNING " + targetQemu, targetHost.status());
        String check = targetHost.check();
        assertTrue(check.startsWith("CHECK ok rebooted=false"), check);
    }

    /**
     * A Ferry host killed with SIGKILL (no shutdown hook) takes its QEMU guests with it: nothing would
     * reattach to an orphan, and the cluster may restart the guest elsewhere on the same disks.
     */
    @Test
    void aKilledHostTakesItsQemuWithIt() throws InterruptedException {
        targetHost = TargetHostProcess.start(runDir.resolve("host-b"), guest, source, true);
        long qemuPid = Long.parseLong(targetHost.status().split(" ")[2]);
        ProcessHandle qemu = ProcessHandle.of(qemuPid).orElseThrow();
        assertTrue(qemu.info().command().orElse("").contains("qemu-system"), "the target host's incoming QEMU: " + qemu.info());
        targetHost.killNine();
        await().atMost(Duration.ofSeconds(30)).until(() -> !qemu.isAlive());
        assertEquals("running", source.runState(), "the source host is another process and keeps its guest");
    }

    @Test
    void cancelMidMigrationIntoAnotherProcessLeavesTheSourceRunning() {
        // 300 kB/s through the tunnel for ~40 MB of walked pages: still copying when it is cancelled.
        QemuMigration m = QemuMigration.begin(source, QemuMigrationOptions.tunnelled().withLz4(false).withTunnelRateLimit(300_000));
        targetHost = TargetHostProcess.start(runDir.resolve("host-b"), guest, source, false);
        m.attach(targetHost);
        CompletableFuture<QemuMigrationReport> run = CompletableFuture.supplyAsync(m::perform);
        await().atMost(Duration.ofSeconds(60)).until(() -> m.progress().transferred() > 500_000);
        m.cancel();

        CompletionException e = assertThrows(CompletionException.class, run::join);
        QemuException q = (QemuException) e.getCause();
        assertEquals(QemuException.Kind.MIGRATION, q.kind());
        assertTrue(q.getMessage().contains("outcome=cancelled"), q.getMessage());
        // The target host destroyed its QEMU on ABORT and lives on; the source runs and keeps walking.
        assertTrue(targetHost.status().startsWith("STATUS STOPPED"));
        await().atMost(Duration.ofSeconds(30)).until(() -> source.status() == VmStatus.RUNNING);
        assertEquals("running", source.runState());
        long before = marks(source);
        await().atMost(Duration.ofSeconds(60)).until(() -> marks(source) > before);
    }

    private static long marks(QemuGuest g) {
        return g.serialOutput().chars().filter(c -> c == 'B').count();
    }
}
