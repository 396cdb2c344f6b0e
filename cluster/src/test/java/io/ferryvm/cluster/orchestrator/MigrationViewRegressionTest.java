package io.ferryvm.cluster.orchestrator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.ferryvm.cluster.api.MigrationProgress;
import io.ferryvm.cluster.api.MigrationSummary;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol.MigrationView;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Chaos schedule "target.prepare=crash" (chaos-tests FailpointChaosIT): the target's node died, the
 * orchestrator recorded the migration as failed ("host left the cluster"), then the source's last progress
 * event (ABORTED) arrived and turned the view back into one in progress without a summary, for good:
 * GET /api/migrations/{id} never showed how it ended. Progress after the end changes nothing.
 */
class MigrationViewRegressionTest {
    @Test
    void progressAfterTheEndLeavesTheEndedView() {
        UUID id = UUID.randomUUID();
        UUID vm = UUID.randomUUID();
        MigrationSummary failed = new MigrationSummary(id, vm, "walker", "host2", "host3", false,
                "host host3 left the cluster during the migration", 0, 0, 0, 0, 0, 0, 0, 0, 0, Map.of(), 0, 0, 0, 0, 0);
        MigrationView ended = new MigrationView(id, vm, "walker", "host2", "host3", "failed", null, failed);
        MigrationProgress late = new MigrationProgress(id, vm, "host2", "host3", "ABORTED", 0, 0, 0, 0, 0, 0, 0);

        MigrationView after = MigrationCoordinator.afterProgress(ended, late);
        assertEquals("failed", after.state());
        assertNotNull(after.summary());

        MigrationView running = new MigrationView(id, vm, "walker", "host2", "host3", "starting", null, null);
        MigrationProgress p = new MigrationProgress(id, vm, "host2", "host3", "PERFORMING", 1, 4096, 0, 0, 0, 0, 0);
        assertEquals("PERFORMING", MigrationCoordinator.afterProgress(running, p).state(), "in flight, progress still shows");
    }
}
