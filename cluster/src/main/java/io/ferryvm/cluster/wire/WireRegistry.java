package io.ferryvm.cluster.wire;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.serializers.DefaultSerializers;
import com.esotericsoftware.kryo.serializers.TimeSerializers;
import io.ferryvm.cluster.agent.AgentProtocol;
import io.ferryvm.cluster.api.ClusterEvent;
import io.ferryvm.cluster.api.MigrationOptions;
import io.ferryvm.cluster.api.MigrationProgress;
import io.ferryvm.cluster.api.MigrationSummary;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol;
import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.NicSpec;
import io.ferryvm.core.NumaSpec;
import io.ferryvm.core.VmInfo;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import io.ferryvm.core.guest.Workload;
import io.ferryvm.core.host.HostInventory;
import io.ferryvm.core.machine.Binding;
import io.ferryvm.core.machine.MemoryPolicy;
import io.ferryvm.core.state.KryoCodec;
import java.util.List;
import java.util.UUID;

/**
 * The classes that may cross the wire, in a fixed order: a class's position is its id in the format.
 * Append only; removing or reordering an entry is a new wire version.
 */
final class WireRegistry {
    static final List<Class<?>> CLASSES = List.of(
            // values from engine-core
            UUID.class, VmSpec.class, VmSpec.HaPolicy.class, NumaSpec.class, NumaSpec.MemoryMode.class,
            NumaSpec.CpuPolicy.class, NumaSpec.ThreadPolicy.class, NumaSpec.GuestNode.class, DiskSpec.class, NicSpec.class,
            Workload.Idle.class, Workload.PageWalk.class, Workload.HotSet.class, Workload.RandomWrites.class, Workload.Fill.class,
            VmInfo.class, VmStatus.class, Binding.class, MemoryPolicy.class, MemoryPolicy.Mode.class, HostInventory.class,
            HostInventory.Cpu.class, HostInventory.HugePages.class, HostInventory.NumaNode.class, long[].class,
            // host agents
            AgentProtocol.Define.class, AgentProtocol.Apply.class, AgentProtocol.Op.class, AgentProtocol.GetStatus.class,
            AgentProtocol.SetDraining.class, AgentProtocol.CheckGuest.class, AgentProtocol.ErrorKind.class,
            AgentProtocol.Reply.class, AgentProtocol.VmRecord.class, AgentProtocol.HostStatus.class,
            AgentProtocol.GuestCheck.class, AgentProtocol.MigrateOut.class, AgentProtocol.CancelOut.class,
            // orchestrator
            OrchestratorProtocol.Placement.class, OrchestratorProtocol.VmView.class, OrchestratorProtocol.HostView.class,
            OrchestratorProtocol.Result.class, OrchestratorProtocol.Define.class, OrchestratorProtocol.Act.class,
            OrchestratorProtocol.GetVm.class, OrchestratorProtocol.ListVms.class, OrchestratorProtocol.VmList.class,
            OrchestratorProtocol.ListHosts.class, OrchestratorProtocol.HostList.class, OrchestratorProtocol.CheckGuest.class,
            OrchestratorProtocol.HostReport.class, OrchestratorProtocol.Migrate.class, OrchestratorProtocol.MigrationAccepted.class,
            OrchestratorProtocol.CancelMigration.class, OrchestratorProtocol.ListMigrations.class,
            OrchestratorProtocol.MigrationView.class, OrchestratorProtocol.MigrationList.class,
            OrchestratorProtocol.MigrationUpdate.class, OrchestratorProtocol.MigrationEnded.class,
            OrchestratorProtocol.Evacuate.class, OrchestratorProtocol.Rebalance.class, OrchestratorProtocol.PlanAccepted.class,
            OrchestratorProtocol.PlannedMove.class,
            // API values and events
            MigrationOptions.class, MigrationProgress.class, MigrationSummary.class, ClusterEvent.VmChanged.class,
            ClusterEvent.VmRemoved.class, ClusterEvent.HostChanged.class, ClusterEvent.Migration.class,
            // the migration control plane between host agents
            AgentProtocol.PrepareIn.class, AgentProtocol.Prepared.class, AgentProtocol.FinishIn.class,
            AgentProtocol.FinishReply.class, AgentProtocol.AbortIn.class, AgentProtocol.AbortReply.class,
            io.ferryvm.migration.MigrationOffer.class, io.ferryvm.migration.MigrationRequest.class,
            io.ferryvm.migration.Compression.class, io.ferryvm.migration.MigrationRequest.NonConvergence.class,
            io.ferryvm.migration.MigrationTicket.class, io.ferryvm.migration.Endpoint.class,
            io.ferryvm.migration.MigrationTarget.Finished.class, java.time.Duration.class,
            // the replicated VM directory
            OrchestratorProtocol.DirectoryRecord.class,
            // a planned stop of the whole cluster
            OrchestratorProtocol.ClusterStopping.class,
            // migrations of a hypervisor driver's guests
            AgentProtocol.DriverPrepareIn.class, AgentProtocol.DriverPostcopyIn.class, AgentProtocol.DriverFinishIn.class,
            AgentProtocol.DriverAbortIn.class, AgentProtocol.DriverAnswer.class,
            io.ferryvm.migration.HypervisorMigration.Options.class, io.ferryvm.migration.HypervisorMigration.Options.Mode.class);

    private WireRegistry() {}

    static void register(Kryo kryo, Serializer<?> actorRefs) {
        CollectionSerializers.register(kryo);
        kryo.register(actorRefClass(), actorRefs);
        for (Class<?> c : CLASSES) {
            if (c == UUID.class) {
                kryo.register(c, new DefaultSerializers.UUIDSerializer());
            } else if (c == java.time.Duration.class) {
                kryo.register(c, new TimeSerializers.DurationSerializer());
            } else {
                KryoCodec.register(kryo, c);
            }
        }
    }

    private static Class<?> actorRefClass() {
        try {
            return Class.forName("org.apache.pekko.actor.typed.internal.adapter.ActorRefAdapter");
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("Pekko's typed ActorRef adapter is not on the class path", e);
        }
    }
}
