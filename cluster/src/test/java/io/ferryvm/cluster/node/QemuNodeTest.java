package io.ferryvm.cluster.node;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ferryvm.cluster.agent.AgentProtocol;
import io.ferryvm.cluster.api.ClusterApi;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol;
import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.qemu.PageWalkGuest;
import io.ferryvm.qemu.QemuConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node started with the qemu hypervisor ({@code ferry node --hypervisor qemu}) runs its guests as QEMU
 * processes: define, start, pause, resume, stop and undefine through the cluster API, each reflected in
 * the node's ordinary VM views (status, and the real guest's serial output).
 */
class QemuNodeTest {
    @TempDir
    Path dir;

    static <T> T get(CompletionStage<T> s) {
        try {
            return s.toCompletableFuture().get(2, TimeUnit.MINUTES);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aQemuNodeRunsItsGuestsAsQemuProcessesReportedThroughTheVmViews() throws Exception {
        assumeTrue(QemuConfig.locateBinary().toFile().canExecute(), "qemu-system-x86_64 not installed: QEMU node test skipped");
        assumeTrue(PageWalkGuest.toolsInstalled(), "as/ld (binutils) not installed: QEMU node test skipped");
        PageWalkGuest guest = PageWalkGuest.build(dir.resolve("guest"), 1L << 20, 8L << 20);
        int port = EmbeddedCluster.freePort();
        NodeConfig config = new NodeConfig("q1", "127.0.0.1", port, List.of("127.0.0.1:" + port), dir.resolve("q1"),
                EmbeddedCluster.defaultTopology("q1"), "127.0.0.1", EmbeddedCluster.freePort(), Duration.ofSeconds(7), Duration.ofSeconds(2), false)
                .withHypervisor("qemu");
        // TCG like every QEMU test here: this machine's /dev/kvm may be a nested module slower than TCG
        System.setProperty("ferry.qemu.accel", "tcg");
        try (FerryNode node = FerryNode.start(config)) {
            ClusterApi api = node.api();
            await().atMost(Duration.ofMinutes(2)).ignoreExceptions()
                    .until(() -> get(api.hosts()).hosts().stream().anyMatch(OrchestratorProtocol.HostView::up));
            VmSpec spec = new VmSpec(UUID.randomUUID(), "walker", 1, 32L << 20, new Workload.Idle(), null,
                    List.of(new DiskSpec("boot", guest.disk().toString(), 1 << 20, "raw", "virtio", false)), List.of(), null, "other", null);

            OrchestratorProtocol.Result defined = get(api.define(spec, "q1", true));
            assertTrue(defined.ok(), defined.message());
            assertEquals(VmStatus.RUNNING, defined.vm().info().status());
            assertEquals("qemu", defined.vm().info().program());
            Optional<ProcessHandle> qemu = ProcessHandle.current().children()
                    .filter(p -> p.info().command().orElse("").contains("qemu-system")).findFirst();
            assertTrue(qemu.isPresent(), "a QEMU process runs under this node");
            // The node's periodic report carries the real guest's serial console into the VM view.
            await().atMost(Duration.ofSeconds(60)).until(() -> view(api).info().serialTail().contains(PageWalkGuest.BANNER));

            assertEquals(VmStatus.PAUSED, act(api, AgentProtocol.Op.PAUSE).vm().info().status());
            assertEquals(VmStatus.RUNNING, act(api, AgentProtocol.Op.RESUME).vm().info().status());
            OrchestratorProtocol.Result refusedUndefine = act(api, AgentProtocol.Op.UNDEFINE);
            assertFalse(refusedUndefine.ok(), "a running guest is not undefined");

            assertEquals(VmStatus.STOPPED, act(api, AgentProtocol.Op.STOP).vm().info().status());
            assertFalse(qemu.get().isAlive(), "stop ends the QEMU process");
            await().atMost(Duration.ofSeconds(30)).until(() -> view(api).info().status() == VmStatus.STOPPED);

            // Started again: a new QEMU process, reported running.
            assertEquals(VmStatus.RUNNING, act(api, AgentProtocol.Op.START).vm().info().status());
            assertEquals(VmStatus.STOPPED, act(api, AgentProtocol.Op.STOP).vm().info().status());
            assertTrue(act(api, AgentProtocol.Op.UNDEFINE).ok());

            // The guest's disk as an OVA (streamOptimized VMDK), uploaded through the REST API to this qemu
            // node: imported, defined, started as a QEMU guest, and it boots to its banner.
            io.ferryvm.ovf.OvfExporter.Result ova = io.ferryvm.qemu.OvaExchange.exportOva(spec, dir.resolve("walker.ova"),
                    io.ferryvm.ovf.OvfExporter.Target.VMWARE, dir.resolve("scratch"));
            assertTrue(ova.members().stream().anyMatch(m -> m.endsWith(".vmdk")), ova.members().toString());
            java.net.http.HttpResponse<String> up = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(node.apiUrl() + "/api/vms/import/upload?name=walker.ova&start=true&host=q1"))
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofFile(dir.resolve("walker.ova"))).timeout(Duration.ofMinutes(2)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertTrue(up.statusCode() / 100 == 2, up.statusCode() + " " + up.body());
            await().atMost(Duration.ofSeconds(60)).until(() -> view(api).info().status() == VmStatus.RUNNING
                    && view(api).info().serialTail().contains(PageWalkGuest.BANNER));
            assertEquals("qemu", view(api).info().program());
            assertEquals(VmStatus.STOPPED, act(api, AgentProtocol.Op.STOP).vm().info().status());
        }
        assertTrue(ProcessHandle.current().children().noneMatch(p -> p.info().command().orElse("").contains("qemu-system")),
                "no QEMU process outlives the node");
    }

    @org.junit.jupiter.api.AfterEach
    void clearAccelerator() {
        System.clearProperty("ferry.qemu.accel");
    }

    private static OrchestratorProtocol.Result act(ClusterApi api, AgentProtocol.Op op) {
        OrchestratorProtocol.Result r = get(api.act("walker", op));
        if (op != AgentProtocol.Op.UNDEFINE) {
            assertTrue(r.ok(), op + ": " + r.message());
        }
        return r;
    }

    private static OrchestratorProtocol.VmView view(ClusterApi api) {
        OrchestratorProtocol.Result r = get(api.vm("walker"));
        assertTrue(r.ok(), r.message());
        return r.vm();
    }
}
