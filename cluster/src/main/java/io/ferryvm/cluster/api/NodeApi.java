package io.ferryvm.cluster.api;

import io.ferryvm.cluster.agent.AgentProtocol.ErrorKind;
import io.ferryvm.cluster.agent.Epochs;
import io.ferryvm.cluster.agent.MigrationAgent;
import io.ferryvm.core.CoreException;
import io.ferryvm.core.Host;
import io.ferryvm.core.Vm;
import io.ferryvm.core.VmInfo;
import io.ferryvm.core.machine.GuestMemory;
import io.ferryvm.core.machine.Machine;
import io.ferryvm.core.machine.RunHistory;
import io.ferryvm.migration.Failpoints;
import io.ferryvm.migration.MigrationJournal;
import io.ferryvm.numa.NumaPlacer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/**
 * What this node itself holds, read straight from its host without the orchestrator: the ground truth an
 * operator (or a chaos run) compares the cluster's directory with. Also, only when the node was started
 * with {@code FERRY_FAILPOINTS_API=on}, the migration failpoints armed at run time (a test hook: one
 * cluster can then be faulted at every phase without a restart per fault).
 *
 * <pre>
 * GET /api/node[?journal=true]   this host's VMs (status, executing, steps, epoch), the wall-clock runs of its
 *                                guests, guest memory mapped, NUMA placements held, migrations in flight
 * GET|PUT /api/node/failpoints   armed and fired points; PUT "point=action,..." replaces them ("" disarms)
 * </pre>
 */
public final class NodeApi extends AllDirectives {
    public static final String FAILPOINTS_API_ENV = "FERRY_FAILPOINTS_API";

    /** One VM as this host has it now. executing: its vCPUs run (not paused, not merely defined). */
    public record NodeVm(UUID id, String name, String status, boolean executing, long steps, long epoch, long memoryBytes) {}

    /** This node's own view. nowMicros is its wall clock, the clock of the runs. */
    public record NodeView(String host, long nowMicros, long pid, long guestMemoryBytes, int activeMigrations, List<NodeVm> vms,
            Set<UUID> placed, List<RunHistory.Run> runs, List<MigrationJournal.Entry> journal) {}

    /** Armed points with their actions, and the points that fired so far. */
    public record FailpointsView(boolean enabled, Map<String, Failpoints.Action> armed, Set<String> fired) {}

    private final Host host;
    private final MigrationAgent migrations;
    private final Failpoints failpoints;
    private final boolean failpointsEnabled;

    public NodeApi(Host host, MigrationAgent migrations, Failpoints failpoints) {
        this(host, migrations, failpoints, "on".equalsIgnoreCase(System.getenv(FAILPOINTS_API_ENV)));
    }

    NodeApi(Host host, MigrationAgent migrations, Failpoints failpoints, boolean failpointsEnabled) {
        this.host = host;
        this.migrations = migrations;
        this.failpoints = failpoints;
        this.failpointsEnabled = failpointsEnabled;
    }

    /** These routes first, then the rest of the API. */
    public Route routes(Route rest) {
        return concat(pathPrefix("api", () -> pathPrefix("node", () -> concat(
                pathEnd(() -> get(() -> parameterOptional("journal", j -> complete(RestApi.ok(view(j.map(Boolean::parseBoolean)
                        .orElse(false))))))),
                path("failpoints", () -> concat(
                        get(() -> complete(RestApi.ok(failpointsView()))),
                        put(() -> entity(Unmarshaller.entityToString(), this::arm))))))), rest);
    }

    NodeView view(boolean withJournal) {
        List<NodeVm> vms = new ArrayList<>();
        for (VmInfo i : host.list()) {
            try {
                Vm vm = host.vm(i.id());
                Machine m = vm.machine();
                boolean executing = m != null && m.isStarted() && !m.isPaused();
                vms.add(new NodeVm(i.id(), i.name(), i.status().name(), executing, i.steps(), Epochs.of(vm.spec()), i.memoryBytes()));
            } catch (CoreException gone) {
                // it left between the listing and the lookup (migrated away, undefined): not here any more
            }
        }
        Set<UUID> placed = new TreeSet<>();
        if (host.config().placer() instanceof NumaPlacer np && np.state() != null) {
            np.state().placements().forEach(p -> placed.add(p.vm()));
        }
        List<MigrationJournal.Entry> journal = withJournal ? migrations.service().journal().entries() : List.of();
        long micros = java.time.Instant.now().toEpochMilli() * 1000;
        return new NodeView(host.name(), micros, ProcessHandle.current().pid(), GuestMemory.liveBytes(), migrations.active(), vms,
                placed, host.runHistory().runs(), journal);
    }

    FailpointsView failpointsView() {
        return new FailpointsView(failpointsEnabled, failpoints.armed(), failpoints.fired());
    }

    private Route arm(String spec) {
        if (!failpointsEnabled) {
            return complete(RestApi.json(StatusCodes.FORBIDDEN, new RestApi.ApiError("forbidden",
                    "failpoints can be armed at run time only on a node started with " + FAILPOINTS_API_ENV + "=on")));
        }
        try {
            failpoints.rearm(spec);
        } catch (IllegalArgumentException e) {
            return complete(RestApi.error(ErrorKind.INVALID, e.getMessage()));
        }
        return complete(RestApi.ok(failpointsView()));
    }
}
