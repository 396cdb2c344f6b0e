package io.ferryvm.cluster.node;

import static io.ferryvm.cluster.node.ClusterTest.get;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.cluster.api.ClusterApi;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.guest.Workload;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The orchestrator singleton moves when its node leaves and rebuilds its directory from the host agents;
 * when a host leaves, its VMs are known as lost and those with {@code ha: restart} run again elsewhere.
 * Then the whole cluster restarts on the same state directories and knows every VM it had.
 */
class FailoverTest {
    @Test
    void singletonFailoverHaRestartAndWholeClusterRestart(@TempDir Path dir) {
        VmSpec ha = VmSpec.of("ha", 1, 16L << 20, new Workload.PageWalk(0, 0, 4)).withHa(VmSpec.HaPolicy.RESTART);
        VmSpec plain = VmSpec.of("plain", 1, 16L << 20, new Workload.Idle());
        VmSpec other = VmSpec.of("other", 1, 16L << 20, new Workload.RandomWrites(2, 3));
        EmbeddedCluster c = EmbeddedCluster.start(3, dir, 0, Duration.ofSeconds(2));
        try {
            ClusterApi api = c.node("host2").api();
            assertTrue(get(api.define(ha, "host3", true)).ok());
            assertTrue(get(api.define(plain, "host3", true)).ok());
            assertTrue(get(api.define(other, "host2", true)).ok());

            // host1 runs the singleton (oldest member): it leaves, the singleton moves and rebuilds its directory.
            c.node("host1").close();
            await().atMost(Duration.ofMinutes(2)).ignoreExceptions().until(() ->
                    get(api.vms()).vms().size() == 3 && hostOf(api, "ha").equals("host3") && hostOf(api, "other").equals("host2"));

            // host3 leaves: its VMs stop with it; "plain" is lost, "ha" restarts on the only host left.
            c.node("host3").close();
            await().atMost(Duration.ofMinutes(2)).ignoreExceptions().until(() -> view(api, "ha").map(v ->
                    v.host().equals("host2") && v.info().status() == VmStatus.RUNNING).orElse(false));
            assertEquals(OrchestratorProtocol.Placement.LOST, view(api, "plain").orElseThrow().placement());
            assertTrue(c.node("host2").host().has(ha.id()));
        } finally {
            c.close();
        }

        // The whole cluster restarts on the same state: every VM is known again (stopped: memory did not survive).
        EmbeddedCluster again = EmbeddedCluster.start(3, dir, 0, Duration.ofSeconds(2));
        try {
            ClusterApi api = again.node("host1").api();
            await().atMost(Duration.ofMinutes(2)).until(() -> get(api.vms()).vms().stream()
                    .map(v -> v.spec().name()).sorted().toList().equals(java.util.List.of("ha", "other", "plain")));
            assertEquals("host2", hostOf(api, "ha"), "the HA copy on host3 was removed when the restart elsewhere was seen");
            assertEquals(VmStatus.STOPPED, view(api, "other").orElseThrow().info().status());
            assertTrue(get(api.act("other", io.ferryvm.cluster.agent.AgentProtocol.Op.START)).ok());
            assertEquals(VmStatus.RUNNING, view(api, "other").orElseThrow().info().status());
        } finally {
            again.close();
        }
    }

    /**
     * Stopping the whole cluster is not a string of host failures: an HA VM stays defined on its own host
     * only (it used to be HA-restarted on a host about to stop as well, the demo's last log lines), and the
     * cluster that starts again on the same state finds every VM where it was.
     */
    @Test
    void aWholeClusterStopMovesNothing(@TempDir Path dir) {
        VmSpec ha = VmSpec.of("ha", 1, 16L << 20, new Workload.PageWalk(0, 0, 4)).withHa(VmSpec.HaPolicy.RESTART);
        VmSpec plain = VmSpec.of("plain", 1, 16L << 20, new Workload.Idle());
        try (EmbeddedCluster c = EmbeddedCluster.start(3, dir, 0, Duration.ofSeconds(2))) {
            ClusterApi api = c.node("host1").api();
            assertTrue(get(api.define(ha, "host3", true)).ok());
            assertTrue(get(api.define(plain, "host2", true)).ok());
        }
        try (EmbeddedCluster again = EmbeddedCluster.start(3, dir, 0, Duration.ofSeconds(2))) {
            ClusterApi api = again.node("host1").api();
            await().atMost(Duration.ofMinutes(2)).until(() -> get(api.vms()).vms().size() == 2);
            assertEquals("host3", hostOf(api, "ha"));
            assertEquals("host2", hostOf(api, "plain"));
            assertEquals(java.util.List.of("host3"), again.nodes().stream().filter(n -> n.host().has(ha.id())).map(FerryNode::name).toList(),
                    "one definition of the HA VM, on its own host");
        }
    }

    static Optional<OrchestratorProtocol.VmView> view(ClusterApi api, String name) {
        OrchestratorProtocol.Result r = get(api.vm(name));
        return r.ok() ? Optional.of(r.vm()) : Optional.empty();
    }

    static String hostOf(ClusterApi api, String name) {
        return view(api, name).map(OrchestratorProtocol.VmView::host).orElse("");
    }
}
