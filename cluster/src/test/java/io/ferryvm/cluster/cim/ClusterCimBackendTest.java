package io.ferryvm.cluster.cim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.cim.CimBackend;
import io.ferryvm.cim.CimStatus;
import io.ferryvm.cluster.agent.AgentProtocol;
import io.ferryvm.cluster.api.ClusterEvent;
import io.ferryvm.cluster.api.MigrationProgress;
import io.ferryvm.cluster.api.MigrationSummary;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** How cluster values map onto the CIM backend's (the calls themselves run in the end-to-end tests). */
class ClusterCimBackendTest {
    private static final UUID ID = UUID.randomUUID();
    private static final UUID VM = UUID.randomUUID();

    private static MigrationProgress progress(String phase, long sent, long left) {
        return new MigrationProgress(ID, VM, "host1", "host2", phase, 1, sent, left, 10, 100, 50, 0);
    }

    @Test
    void percentCompleteGrowsThroughThePhases() {
        assertEquals(5, ClusterCimBackend.percent(progress("BEGUN", 0, 0)));
        assertEquals(10, ClusterCimBackend.percent(progress("PERFORMING", 0, 1000)));
        assertEquals(50, ClusterCimBackend.percent(progress("PERFORMING", 500, 500)));
        assertEquals(90, ClusterCimBackend.percent(progress("PERFORMING", 1000, 0)));
        assertEquals(92, ClusterCimBackend.percent(progress("SWITCHED_OVER", 1000, 0)));
        assertEquals(99, ClusterCimBackend.percent(progress("FINISHED", 1000, 0)));
    }

    @Test
    void migrationsMapToTheirPhase() {
        MigrationSummary ok = new MigrationSummary(ID, VM, "web", "host1", "host2", true, null, 900, 100, 40, 10, 10, 20, 3, 1 << 20,
                64 << 20, Map.of(), 0, 80, 90, 0, 0);
        CimBackend.Migration done = ClusterCimBackend.migration(new OrchestratorProtocol.MigrationView(ID, VM, "web", "host1", "host2",
                "completed", progress("FINISHED", 1, 0), ok));
        assertEquals(CimBackend.Migration.Phase.COMPLETED, done.phase());
        assertEquals(40, done.downtimeMs());
        assertEquals(100, done.percentComplete());
        CimBackend.Migration queued = ClusterCimBackend.migration(new OrchestratorProtocol.MigrationView(ID, VM, "web", "host1", "host2",
                "starting", null, null));
        assertEquals(CimBackend.Migration.Phase.QUEUED, queued.phase());
        CimBackend.Event e = ClusterCimBackend.translate(new ClusterEvent.Migration(null, new MigrationSummary(ID, VM, "web", "host1",
                "host2", false, "target refused", 0, 0, 0, 0, 0, 0, 0, 0, 0, Map.of(), 0, 0, 0, 0, 0)));
        CimBackend.Migration failed = ((CimBackend.MigrationUpdated) e).migration();
        assertEquals(CimBackend.Migration.Phase.FAILED, failed.phase());
        assertEquals("target refused", failed.detail());
        assertTrue(ClusterCimBackend.translate(new ClusterEvent.VmRemoved(VM, "web")) instanceof CimBackend.VmRemoved);
    }

    @Test
    void clusterRefusalsKeepTheirMeaning() {
        assertEquals(CimStatus.NOT_FOUND, ClusterCimBackend.refusal(AgentProtocol.ErrorKind.NOT_FOUND, "x").status());
        assertEquals(CimStatus.INVALID_PARAMETER, ClusterCimBackend.refusal(AgentProtocol.ErrorKind.INVALID, "x").status());
        assertEquals(CimStatus.ALREADY_EXISTS, ClusterCimBackend.refusal(AgentProtocol.ErrorKind.ALREADY_EXISTS, "x").status());
        assertEquals(CimStatus.FAILED, ClusterCimBackend.refusal(AgentProtocol.ErrorKind.ILLEGAL, "VM web is stopped").status());
        assertEquals("VM web is stopped", ClusterCimBackend.refusal(AgentProtocol.ErrorKind.ILLEGAL, "VM web is stopped").getMessage());
    }
}
