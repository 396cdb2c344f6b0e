package io.ferryvm.cluster.api;

import io.ferryvm.cluster.orchestrator.OrchestratorProtocol.VmView;
import io.ferryvm.cluster.wire.WireMessage;
import java.util.UUID;

/** What the event stream carries (server-sent events, the CLI's progress bar, the web console). */
public interface ClusterEvent extends WireMessage {
    /** The SSE event name. */
    String type();

    record VmChanged(VmView vm) implements ClusterEvent {
        @Override
        public String type() {
            return "vm";
        }
    }

    record VmRemoved(UUID vm, String name) implements ClusterEvent {
        @Override
        public String type() {
            return "vm-removed";
        }
    }

    record HostChanged(String host, boolean up, boolean draining) implements ClusterEvent {
        @Override
        public String type() {
            return "host";
        }
    }

    /** Progress (summary null) or the end (progress null) of a migration. */
    record Migration(MigrationProgress progress, MigrationSummary summary) implements ClusterEvent {
        @Override
        public String type() {
            return summary != null ? "migration-ended" : "migration-progress";
        }
    }
}
