package io.ferryvm.cluster.orchestrator;

import io.ferryvm.cluster.agent.AgentProtocol;
import io.ferryvm.cluster.api.MigrationOptions;
import io.ferryvm.cluster.api.MigrationProgress;
import io.ferryvm.cluster.api.MigrationSummary;
import io.ferryvm.cluster.wire.WireMessage;
import io.ferryvm.core.VmInfo;
import io.ferryvm.core.VmSpec;
import java.util.List;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorRef;

/** The orchestrator singleton's messages: requests from the API on any node, reports from host agents. */
public final class OrchestratorProtocol {
    private OrchestratorProtocol() {}

    public interface Command extends WireMessage {}

    /** Hand-over: the singleton moves to another node (local only). */
    public enum Stop implements Command, org.apache.pekko.actor.NoSerializationVerificationNeeded { INSTANCE }

    /** Where a VM is as the orchestrator sees it. */
    public enum Placement { ACTIVE, MIGRATING, LOST }

    /** One VM in the directory. */
    public record VmView(VmSpec spec, VmInfo info, String host, Placement placement) implements WireMessage {}

    /**
     * What the orchestrator replicates of each VM (Pekko Distributed Data, written to every node): enough for a
     * new orchestrator to know VMs whose host died together with the old one.
     */
    public record DirectoryRecord(VmSpec spec, String host, String hostAddress) implements WireMessage {}

    /** One host in the directory. */
    public record HostView(String host, String address, boolean up, boolean draining, AgentProtocol.HostStatus status)
            implements WireMessage {}

    /** The answer to a VM request. */
    public record Result(boolean ok, AgentProtocol.ErrorKind error, String message, VmView vm) implements WireMessage {
        public static Result failed(AgentProtocol.ErrorKind kind, String message) {
            return new Result(false, kind, message, null);
        }
    }

    /** Defines a VM on the given host, or on the one the scheduler picks (host empty). */
    public record Define(VmSpec spec, String host, boolean start, ActorRef<Result> replyTo) implements Command {}

    public record Act(String vm, AgentProtocol.Op op, ActorRef<Result> replyTo) implements Command {}

    public record GetVm(String vm, ActorRef<Result> replyTo) implements Command {}

    public record ListVms(ActorRef<VmList> replyTo) implements Command {}

    public record VmList(List<VmView> vms) implements WireMessage {
        public VmList {
            vms = List.copyOf(vms);
        }
    }

    public record ListHosts(ActorRef<HostList> replyTo) implements Command {}

    public record HostList(List<HostView> hosts) implements WireMessage {
        public HostList {
            hosts = List.copyOf(hosts);
        }
    }

    public record CheckGuest(String vm, ActorRef<AgentProtocol.GuestCheck> replyTo) implements Command {}

    /** A host agent's report (periodic, and after each change). */
    public record HostReport(AgentProtocol.HostStatus status, ActorRef<AgentProtocol.Command> agent) implements Command {}

    // ---- migrations ----

    /** Starts a live migration to a host (or to the one the scheduler picks: to empty). */
    public record Migrate(String vm, String to, MigrationOptions options, ActorRef<MigrationAccepted> replyTo)
            implements Command {}

    public record MigrationAccepted(boolean ok, AgentProtocol.ErrorKind error, String message, UUID migrationId, String target)
            implements WireMessage {}

    public record CancelMigration(UUID migrationId, ActorRef<Result> replyTo) implements Command {}

    public record ListMigrations(ActorRef<MigrationList> replyTo) implements Command {}

    /** A migration as the orchestrator tracks it: latest progress, and the summary once it ended. */
    public record MigrationView(UUID migrationId, UUID vm, String vmName, String source, String target, String state,
            MigrationProgress progress, MigrationSummary summary) implements WireMessage {}

    public record MigrationList(List<MigrationView> migrations) implements WireMessage {
        public MigrationList {
            migrations = List.copyOf(migrations);
        }
    }

    /** From the source agent while a migration runs. */
    public record MigrationUpdate(MigrationProgress progress) implements Command {}

    /** From the source agent when a migration ended, either way. */
    public record MigrationEnded(MigrationSummary summary) implements Command {}

    // ---- plans ----

    /** Drains a host for maintenance: every VM is migrated off it, a bounded number at a time. */
    public record Evacuate(String host, ActorRef<PlanAccepted> replyTo) implements Command {}

    /** Reduces remote-node memory and stranded resources with at most maxMigrations migrations. */
    public record Rebalance(int maxMigrations, ActorRef<PlanAccepted> replyTo) implements Command {}

    /** The whole cluster is about to stop: hosts that leave from now on are not failures. */
    public record ClusterStopping(ActorRef<Result> replyTo) implements Command {}

    public record PlanAccepted(boolean ok, AgentProtocol.ErrorKind error, String message, List<PlannedMove> moves)
            implements WireMessage {
        public PlanAccepted {
            moves = List.copyOf(moves);
        }
    }

    public record PlannedMove(UUID vm, String vmName, String from, String to) implements WireMessage {}
}
