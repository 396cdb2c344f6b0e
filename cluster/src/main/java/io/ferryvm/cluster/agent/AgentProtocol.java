package io.ferryvm.cluster.agent;

import io.ferryvm.cluster.wire.WireMessage;
import io.ferryvm.core.VmInfo;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.host.HostInventory;
import java.util.List;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorRef;

/** The messages a {@link HostAgent} understands and answers: one record per message. */
public final class AgentProtocol {
    private AgentProtocol() {}

    /** Everything a host agent accepts. */
    public interface Command extends WireMessage {}

    /** Lifecycle requests an agent applies to one of its VMs. */
    public enum Op { START, PAUSE, RESUME, STOP, UNDEFINE }

    /** Defines a VM here (persisted before the reply), optionally starting it. */
    public record Define(VmSpec spec, boolean start, ActorRef<Reply> replyTo) implements Command {}

    public record Apply(UUID vm, Op op, ActorRef<Reply> replyTo) implements Command {}

    /** The host's full status: inventory, every VM with its definition, draining flag. */
    public record GetStatus(ActorRef<HostStatus> replyTo) implements Command {}

    /** Marks the host as draining (maintenance) or not; persisted, so an evacuation survives failover. */
    public record SetDraining(boolean draining, ActorRef<Reply> replyTo) implements Command {}

    /** Pauses the VM, compares its memory with its deterministic replay, resumes it as it was. */
    public record CheckGuest(UUID vm, ActorRef<GuestCheck> replyTo) implements Command {}

    /**
     * Source: migrate one of this host's VMs to the target agent. The reply says whether it started; the
     * progress and the outcome go to the orchestrator as MigrationUpdate / MigrationEnded.
     */
    public record MigrateOut(UUID migrationId, UUID vm, String targetHost, ActorRef<Command> target,
            io.ferryvm.cluster.api.MigrationOptions options, ActorRef<Reply> replyTo) implements Command {}

    /** Source: cancel a migration before finish (the guest goes on here). */
    public record CancelOut(UUID migrationId, String reason) implements Command {}

    /** Target, prepare: place the incoming VM, pre-fault its memory, listen, issue the one-time token. */
    public record PrepareIn(io.ferryvm.migration.MigrationOffer offer, ActorRef<Prepared> replyTo) implements Command {}

    public record Prepared(boolean ok, String error, io.ferryvm.migration.MigrationTicket ticket) implements WireMessage {}

    /** Target, finish: verify the memory digest and resume the guest here. */
    public record FinishIn(UUID migrationId, ActorRef<FinishReply> replyTo) implements Command {}

    public record FinishReply(boolean ok, String error, io.ferryvm.migration.MigrationTarget.Finished finished)
            implements WireMessage {}

    /** Target: the source gave up before finish; the target frees everything (unless it finished already). */
    public record AbortIn(UUID migrationId, String reason, ActorRef<AbortReply> replyTo) implements Command {}

    /** aborted false: the target had finished already, and finished says how (the guest runs there). */
    public record AbortReply(boolean aborted, String targetFailure, io.ferryvm.migration.MigrationTarget.Finished finished)
            implements WireMessage {}

    // ---- migrations of a hypervisor driver's guests (QEMU's own stream under the cluster's phases) ----

    /** Target, prepare: place the incoming guest, start it paused and listening; the answer carries the offer. */
    public record DriverPrepareIn(UUID migrationId, VmSpec spec, io.ferryvm.migration.HypervisorMigration.Options options,
            ActorRef<DriverAnswer> replyTo) implements Command {}

    /** Target: post-copy started on the source, the incoming guest runs from now on. */
    public record DriverPostcopyIn(UUID migrationId, ActorRef<DriverAnswer> replyTo) implements Command {}

    /** Target, finish: the whole stream arrived; persist the definition and resume the guest if asked. */
    public record DriverFinishIn(UUID migrationId, boolean resume, ActorRef<DriverAnswer> replyTo) implements Command {}

    /** Target: the source gave up; destroy the incoming guest unless it finished (the answer says which). */
    public record DriverAbortIn(UUID migrationId, ActorRef<DriverAnswer> replyTo) implements Command {}

    /**
     * A driver target's answer: ok or why not; for prepare the offer (a direct URI, or the tunnel's endpoint
     * and its token in hex); for finish and abort the guest's resume time (microseconds, -1 unknown); for
     * abort whether it aborted (false: it had finished and the guest runs there).
     */
    public record DriverAnswer(boolean ok, String error, String directUri, io.ferryvm.migration.Endpoint tunnel, String token,
            long time, boolean aborted) implements WireMessage {
        static DriverAnswer failed(String error) {
            return new DriverAnswer(false, error, null, null, null, -1, false);
        }

        static DriverAnswer done(long time, boolean aborted) {
            return new DriverAnswer(true, "", null, null, null, time, aborted);
        }
    }

    /** An error kind an API can map to a status code (engine-core's kinds, plus the cluster's own). */
    public enum ErrorKind { NONE, NOT_FOUND, ILLEGAL, INVALID, RESOURCES, ALREADY_EXISTS, UNAVAILABLE, FAILED }

    /** The answer to a request: ok with the VM's state, or why not. */
    public record Reply(boolean ok, ErrorKind error, String message, VmInfo vm) implements WireMessage {
        public static Reply ok(VmInfo vm) {
            return new Reply(true, ErrorKind.NONE, "", vm);
        }

        public static Reply failed(ErrorKind kind, String message) {
            return new Reply(false, kind, message, null);
        }
    }

    /** One VM as the host knows it: definition and runtime view. */
    public record VmRecord(VmSpec spec, VmInfo info) implements WireMessage {}

    /** A host's report: sent on request and periodically to the orchestrator. */
    /**
     * hypervisor: what runs the host's guests ("builtin", "qemu"); accelerator: what runs guest code there,
     * as the driver reports it ("kvm", "tcg"; "builtin" for the built-in hypervisor).
     */
    public record HostStatus(String host, String address, HostInventory inventory, List<VmRecord> vms, boolean draining,
            long reservedMemoryBytes, String hypervisor, String accelerator) implements WireMessage {
        public HostStatus {
            vms = List.copyOf(vms);
            hypervisor = hypervisor == null || hypervisor.isBlank() ? io.ferryvm.core.HypervisorDriver.BUILTIN : hypervisor;
            accelerator = accelerator == null || accelerator.isBlank() ? hypervisor : accelerator;
        }

        /** A host on the built-in hypervisor. */
        public HostStatus(String host, String address, HostInventory inventory, List<VmRecord> vms, boolean draining,
                long reservedMemoryBytes) {
            this(host, address, inventory, vms, draining, reservedMemoryBytes, null, null);
        }
    }

    /** Result of a guest check: memory equals the replay (and pagewalk's invariant holds, for pagewalk). */
    public record GuestCheck(UUID vm, boolean ok, String detail, long digest, long[] steps) implements WireMessage {}
}
