package io.ferryvm.cluster.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ferryvm.cluster.api.ClusterApi;
import io.ferryvm.cluster.api.MigrationOptions;
import io.ferryvm.cluster.api.MigrationSummary;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol;
import io.ferryvm.core.CoreException;
import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.VmInfo;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.host.HostInventory;
import io.ferryvm.core.host.InventoryReader;
import io.ferryvm.qemu.PageWalkGuest;
import io.ferryvm.qemu.PageWalkRule;
import io.ferryvm.qemu.QemuConfig;
import io.ferryvm.qemu.QemuDriver;
import io.ferryvm.qemu.QemuGuest;
import io.ferryvm.qemu.VcpuThread;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two cluster nodes on the qemu hypervisor (each its own actor system, joined over TCP on 127.0.0.1, with
 * this machine's real topology so placements are applied): a real QEMU guest is placed and pinned by the
 * node's placer, then live-migrated through the cluster API, tunnelled through Ferry's channel with LZ4
 * and back QEMU to QEMU directly with multifd; after each move the guest runs on the target without
 * rebooting and its memory keeps QEMU's page-walk rule; a cancelled migration leaves it running where it
 * was and nothing on the target.
 */
class QemuClusterMigrationTest {
    private static final long WALK_START = 1L << 20;
    private static final long WALK_END = 24L << 20;

    @TempDir
    Path dir;

    @AfterEach
    void clearAccelerator() {
        System.clearProperty("ferry.qemu.accel");
    }

    @Test
    void aQemuGuestLiveMigratesThroughTheClusterBothWaysAndACancelLeavesItWhereItRan() {
        assumeTrue(QemuConfig.locateBinary().toFile().canExecute(), "qemu-system-x86_64 not installed: QEMU cluster migration test skipped");
        assumeTrue(PageWalkGuest.toolsInstalled(), "as/ld (binutils) not installed: QEMU cluster migration test skipped");
        System.setProperty("ferry.qemu.accel", "tcg"); // this machine's /dev/kvm may be a nested module slower than TCG
        PageWalkGuest guest = PageWalkGuest.build(dir.resolve("guest"), WALK_START, WALK_END);
        HostInventory real = InventoryReader.detect();
        int p1 = EmbeddedCluster.freePort();
        int p2 = EmbeddedCluster.freePort();
        List<String> seeds = List.of("127.0.0.1:" + p1);
        NodeConfig c1 = new NodeConfig("q1", "127.0.0.1", p1, seeds, dir.resolve("q1"), real, "127.0.0.1", 0,
                Duration.ofSeconds(7), Duration.ofSeconds(2), false).withHypervisor("qemu");
        NodeConfig c2 = new NodeConfig("q2", "127.0.0.1", p2, seeds, dir.resolve("q2"), real, "127.0.0.1", 0,
                Duration.ofSeconds(7), Duration.ofSeconds(2), false).withHypervisor("qemu");
        try (FerryNode n1 = FerryNode.start(c1); FerryNode n2 = FerryNode.start(c2)) {
            ClusterApi api = n1.api();
            await().atMost(Duration.ofMinutes(2)).ignoreExceptions().until(() -> get(api.hosts()).hosts().stream()
                    .filter(h -> h.up() && h.status() != null && "qemu".equals(h.status().hypervisor())
                            && "tcg".equals(h.status().accelerator())).count() == 2); // each host reports what runs guest code
            VmSpec spec = new VmSpec(UUID.randomUUID(), "walker", 1, 32L << 20, new Workload.Idle(), null,
                    List.of(new DiskSpec("boot", guest.disk().toString(), 1 << 20, "raw", "virtio", false)), List.of(), null, "other", null);
            OrchestratorProtocol.Result defined = get(api.define(spec, "q1", true));
            assertTrue(defined.ok(), defined.message());

            // Placed by q1's placer and applied: the vCPU thread may run only on its placement's CPUs.
            VmInfo info = defined.vm().info();
            assertFalse(info.binding().vcpuCpus().isEmpty(), "the guest has a placement");
            assertTrue(info.bindingApplied(), "a real topology's placement is applied");
            assertPinned(qemu(n1).guest(spec.id()), info);
            await().atMost(Duration.ofSeconds(60)).until(() -> view(api).info().serialTail().contains(PageWalkGuest.BANNER));

            // Tunnelled through Ferry's channel with LZ4 (the default for a QEMU guest).
            MigrationSummary there = migrate(api, "q2", MigrationOptions.DEFAULT);
            assertTrue(there.success(), there.line());
            assertTrue(there.wireBytes() > 0 && there.wireBytes() * 4 < there.guestBytes(),
                    "LZ4 shrinks the mostly-zero guest at least 4x: " + there.line());
            assertTrue(there.downtimeMs() >= 0, there.line());
            arrived(api, n1, n2, spec.id());

            // Back QEMU to QEMU directly, two multifd channels.
            MigrationSummary back = migrate(api, "q1", MigrationOptions.DEFAULT.withHypervisorMode("direct"));
            assertTrue(back.success(), back.line());
            arrived(api, n2, n1, spec.id());

            // Capped at 256 KiB/s, the ~23 MiB walk takes a minute and a half: cancelled in the middle.
            OrchestratorProtocol.MigrationAccepted slow = get(api.migrate("walker", "q2",
                    new MigrationOptions(300, 0.25, 1, "lz4", false, false, 30, 0)));
            assertTrue(slow.ok(), slow.message());
            await().atMost(Duration.ofSeconds(60)).until(() -> migration(api, slow.migrationId()).progress() != null
                    && migration(api, slow.migrationId()).progress().transferredBytes() > 0);
            assertTrue(get(api.cancelMigration(slow.migrationId())).ok());
            await().atMost(Duration.ofMinutes(2)).until(() -> migration(api, slow.migrationId()).summary() != null);
            MigrationSummary cancelled = migration(api, slow.migrationId()).summary();
            assertFalse(cancelled.success(), cancelled.line());
            assertTrue(cancelled.failure().contains("cancel"), cancelled.line());
            await().atMost(Duration.ofSeconds(30)).until(() -> view(api).host().equals("q1") && view(api).info().status() == VmStatus.RUNNING);
            assertFalse(n2.host().has(spec.id()), "nothing of the guest was defined on the target");
            assertThrows(CoreException.class, () -> qemu(n2).guest(spec.id()), "no QEMU of the guest runs on the target");
            QemuGuest still = qemu(n1).guest(spec.id());
            String before = still.serialOutput();
            await().atMost(Duration.ofSeconds(60)).until(() -> still.serialOutput().length() > before.length());
            assertWalkIntact(still);
        }
    }

    /** The guest left source and runs on target: definitions moved, page-walk memory intact, no reboot. */
    private static void arrived(ClusterApi api, FerryNode source, FerryNode target, UUID id) {
        await().atMost(Duration.ofSeconds(30)).until(() -> view(api).host().equals(target.name())
                && view(api).info().status() == VmStatus.RUNNING);
        assertFalse(source.host().has(id), "the source undefined its copy");
        assertTrue(target.host().has(id), "the target persisted the definition");
        assertThrows(CoreException.class, () -> qemu(source).guest(id), "the source's QEMU is gone");
        QemuGuest g = qemu(target).guest(id);
        await().atMost(Duration.ofSeconds(60)).until(() -> g.serialOutput().contains("B"));
        assertFalse(g.serialOutput().contains(PageWalkGuest.BANNER), "the guest did not reboot on the target");
        assertTrue(view(api).info().bindingApplied(), "the target placed and pinned the guest itself");
        assertPinned(g, view(api).info());
        assertWalkIntact(g);
    }

    private static void assertWalkIntact(QemuGuest g) {
        g.pause();
        Path dump = g.directory().resolve("walk-" + System.nanoTime() + ".mem");
        g.saveMemory(WALK_START, WALK_END - WALK_START, dump);
        g.resume();
        PageWalkRule.Result r = PageWalkRule.checkDump(dump, (int) ((WALK_END - WALK_START) / 4096));
        assertTrue(r.ok(), "page-walk rule: " + r.violations());
    }

    private static void assertPinned(QemuGuest g, VmInfo info) {
        List<VcpuThread> threads = g.vcpuThreads();
        assertEquals(1, threads.size());
        assertEquals(info.binding().cpusOf(0), threads.get(0).allowedCpus(), "vCPU 0's allowed CPUs (from /proc) are its placement's");
    }

    private static MigrationSummary migrate(ClusterApi api, String to, MigrationOptions o) {
        OrchestratorProtocol.MigrationAccepted a = get(api.migrate("walker", to, o));
        assertTrue(a.ok(), a.message());
        await().atMost(Duration.ofMinutes(3)).until(() -> migration(api, a.migrationId()).summary() != null);
        return migration(api, a.migrationId()).summary();
    }

    private static OrchestratorProtocol.MigrationView migration(ClusterApi api, UUID id) {
        return get(api.migrations()).migrations().stream().filter(m -> m.migrationId().equals(id)).findFirst().orElseThrow();
    }

    private static QemuDriver qemu(FerryNode n) {
        return (QemuDriver) n.driver().orElseThrow();
    }

    private static OrchestratorProtocol.VmView view(ClusterApi api) {
        OrchestratorProtocol.Result r = get(api.vm("walker"));
        assertTrue(r.ok(), r.message());
        return r.vm();
    }

    static <T> T get(CompletionStage<T> s) {
        try {
            return s.toCompletableFuture().get(2, TimeUnit.MINUTES);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
