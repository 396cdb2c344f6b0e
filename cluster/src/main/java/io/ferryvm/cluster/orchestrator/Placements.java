package io.ferryvm.cluster.orchestrator;

import io.ferryvm.cluster.agent.AgentProtocol.HostStatus;
import io.ferryvm.cluster.agent.AgentProtocol.VmRecord;
import io.ferryvm.core.Placer;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.host.HostInventory;
import io.ferryvm.numa.ClusterScheduler;
import io.ferryvm.numa.Evacuation;
import io.ferryvm.numa.Fit;
import io.ferryvm.numa.HostTopology;
import io.ferryvm.numa.NumaException;
import io.ferryvm.numa.NumaPlacer;
import io.ferryvm.numa.Placement;
import io.ferryvm.numa.Rebalancer;
import io.ferryvm.numa.VmRequest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The orchestrator's placement ledger: numa-scheduler's {@link ClusterScheduler} mirroring where every
 * VM runs (rebuilt from host reports), used to choose hosts for new VMs, HA restarts and migration
 * targets, and to plan evacuations and rebalancing. Hosts apply the real pinning themselves with
 * {@link #hostPlacer}: a target computes its own placement for its own topology.
 */
public final class Placements {
    /** Shared vCPUs per physical CPU (Nova's cpu_allocation_ratio default is 4.0 too). */
    public static final double CPU_OVERCOMMIT = 4.0;

    /** A move of a plan, for the coordinator. */
    record Move(UUID vm, String to) {}

    /** Told how long each placement decision took: kind (new, on-host, migration), outcome (placed, rejected). */
    @FunctionalInterface
    public interface Observer {
        Observer NONE = (kind, outcome, nanos) -> { };

        void decided(String kind, String outcome, long nanos);
    }

    private final Observer observer;

    public Placements() {
        this(Observer.NONE);
    }

    public Placements(Observer observer) {
        this.observer = observer;
    }

    private Fit timed(String kind, java.util.function.Supplier<Fit> decision) {
        long started = System.nanoTime();
        Fit f = decision.get();
        observer.decided(kind, f instanceof Placement ? "placed" : "rejected", System.nanoTime() - started);
        return f;
    }

    private final ClusterScheduler scheduler = new ClusterScheduler(
            new ClusterScheduler.Config(ClusterScheduler.Policy.PACK, CPU_OVERCOMMIT, 4, 64));
    private final Set<String> hosts = new HashSet<>();
    /** VMs placed here but not yet reported by their host (a define or a migration in flight). */
    private final Map<UUID, String> pending = new HashMap<>();
    /** Each host's hypervisor ("builtin", "qemu"): a guest moves only between hosts of the same one. */
    private final Map<String, String> hypervisors = new HashMap<>();
    /** Whether each host takes placements, as its reports say (not draining, up). */
    private final Map<String, Boolean> enabled = new HashMap<>();

    /** The engine-core placer each node's host uses. */
    public static Placer hostPlacer(HostInventory inventory) {
        return new NumaPlacer(HostTopology.Reserve.NONE, CPU_OVERCOMMIT);
    }

    /** A host's report: the ledger follows what the host really runs. */
    void hostReported(HostStatus s, Directory d) {
        if (hosts.add(s.host())) {
            scheduler.addHost(HostTopology.from(s.inventory(), HostTopology.Reserve.NONE));
        }
        scheduler.setEnabled(s.host(), !s.draining());
        enabled.put(s.host(), !s.draining());
        hypervisors.put(s.host(), s.hypervisor());
        Set<UUID> active = new HashSet<>();
        for (VmRecord r : s.vms()) {
            UUID id = r.spec().id();
            if (!r.info().status().isActive() || d.isMigrating(id)) {
                continue;
            }
            if (d.vm(id).map(e -> !e.host().equals(s.host())).orElse(true)) {
                continue; // the directory places it elsewhere (a copy being reconciled)
            }
            active.add(id);
            pending.remove(id);
            String on = scheduler.hostOf(id).orElse(null);
            if (!s.host().equals(on)) {
                scheduler.release(id);
                scheduler.placeOn(VmRequest.of(r.spec()), s.host()); // recorded even if it over-commits the model
            }
        }
        for (io.ferryvm.numa.Placement p : scheduler.state(s.host()).placements()) {
            UUID id = p.vm();
            if (!active.contains(id) && !pending.containsKey(id) && !d.isMigrating(id)) {
                scheduler.release(id); // stopped, undefined or gone from this host
            }
        }
    }

    /** A host left: out of placement, and its VMs no longer hold capacity anywhere. */
    void hostDown(String host) {
        if (hosts.contains(host)) {
            scheduler.setEnabled(host, false);
            enabled.put(host, false);
            for (io.ferryvm.numa.Placement p : List.copyOf(scheduler.state(host).placements())) {
                scheduler.release(p.vm());
            }
        }
    }

    /** Chooses and reserves the best host for a new VM (or an HA restart); the fit says why not. */
    Fit placeNew(VmSpec spec) {
        scheduler.release(spec.id());
        Fit f = timed("new", () -> safe(() -> scheduler.place(VmRequest.of(spec))));
        if (f instanceof Placement p) {
            pending.put(spec.id(), p.host());
        }
        return f;
    }

    /** As {@link #placeNew}, among the hosts of host's hypervisor: an HA restart of a guest lost with host. */
    Fit placeNewLike(VmSpec spec, String host) {
        return sameHypervisorAs(host, () -> placeNew(spec));
    }

    /** Reserves a named host for a new VM. */
    Fit placeOn(VmSpec spec, String host) {
        scheduler.release(spec.id());
        Fit f = timed("on-host", () -> safe(() -> scheduler.placeOn(VmRequest.of(spec), host)));
        if (f instanceof Placement p) {
            pending.put(spec.id(), p.host());
        }
        return f;
    }

    /** The define or restart failed: the reservation goes. */
    void release(UUID vm) {
        pending.remove(vm);
        scheduler.release(vm);
    }

    /**
     * Reserves a migration target (to, or the best other host when to is null), fitted for that host's
     * topology; the ledger then has the VM there. The fit says why not.
     */
    Fit moveTo(VmSpec spec, String from, String to) {
        if (scheduler.hostOf(spec.id()).isEmpty()) {
            safe(() -> scheduler.placeOn(VmRequest.of(spec), from)); // not recorded yet (a report is on its way)
        }
        Fit f = timed("migration", () -> sameHypervisorAs(from, () -> safe(() -> scheduler.move(spec.id(), to))));
        if (f instanceof Placement p) {
            pending.put(spec.id(), p.host());
        }
        return f;
    }

    /** The migration failed: the VM is back where it ran. */
    void migrationFailed(VmSpec spec, String source) {
        pending.remove(spec.id());
        scheduler.release(spec.id());
        safe(() -> scheduler.placeOn(VmRequest.of(spec), source));
    }

    /** Moves that empty a host, largest VMs first (numa-scheduler's Evacuation). */
    List<Move> evacuationPlan(String host) {
        List<Move> out = new ArrayList<>();
        if (!hosts.contains(host)) {
            return out;
        }
        List<io.ferryvm.numa.Move> moves = sameHypervisorAs(host,
                () -> new Evacuation(scheduler.config()).plan(scheduler.snapshot(), host).moves());
        for (io.ferryvm.numa.Move m : moves) {
            out.add(new Move(m.vm(), m.to()));
        }
        return out;
    }

    /** At most max moves that reduce remote memory and stranded resources (numa-scheduler's Rebalancer). */
    List<Move> rebalancePlan(int max) {
        List<Move> out = new ArrayList<>();
        for (io.ferryvm.numa.Move m : new Rebalancer(scheduler.config(), 1L << 20).plan(scheduler.snapshot(), max).moves()) {
            String from = scheduler.hostOf(m.vm()).orElse(null);
            if (from == null || hypervisorOf(from).equals(hypervisorOf(m.to()))) {
                out.add(new Move(m.vm(), m.to())); // never across hypervisors: neither could run the other's guest
            }
        }
        return out;
    }

    /** A host's hypervisor, as its reports say (built-in until one arrived). */
    String hypervisorOf(String host) {
        return hypervisors.getOrDefault(host, io.ferryvm.core.HypervisorDriver.BUILTIN);
    }

    /**
     * Runs a decision with only the hosts of host's hypervisor taking placements: a QEMU guest can move only
     * to another QEMU host, a built-in one only to a built-in host.
     */
    private <T> T sameHypervisorAs(String host, java.util.function.Supplier<T> decision) {
        String mine = hypervisorOf(host);
        List<String> off = new ArrayList<>();
        for (Map.Entry<String, Boolean> e : enabled.entrySet()) {
            if (e.getValue() && !hypervisorOf(e.getKey()).equals(mine)) {
                scheduler.setEnabled(e.getKey(), false);
                off.add(e.getKey());
            }
        }
        try {
            return decision.get();
        } finally {
            off.forEach(h -> scheduler.setEnabled(h, true));
        }
    }

    /** The host the ledger has a VM on. */
    String hostOf(UUID vm) {
        return scheduler.hostOf(vm).orElse(null);
    }

    private static Fit safe(java.util.function.Supplier<Fit> f) {
        try {
            return f.get();
        } catch (NumaException e) {
            return new io.ferryvm.numa.Rejection(io.ferryvm.numa.Constraint.CONFLICT, e.getMessage());
        }
    }
}
