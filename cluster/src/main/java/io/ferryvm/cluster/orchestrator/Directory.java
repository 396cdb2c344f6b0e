package io.ferryvm.cluster.orchestrator;

import io.ferryvm.cluster.agent.AgentProtocol;
import io.ferryvm.cluster.agent.AgentProtocol.HostStatus;
import io.ferryvm.cluster.agent.AgentProtocol.VmRecord;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol.HostView;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol.Placement;
import io.ferryvm.cluster.orchestrator.OrchestratorProtocol.VmView;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * The orchestrator's view of the cluster: hosts and where every VM is. Rebuilt from host reports (each
 * host is the authority on the VMs it holds), so a new orchestrator after failover converges to the
 * same view. Plain logic, no actors: the {@link Orchestrator} feeds it messages.
 *
 * <p>Reconciliation rules: a VM reported by two hosts (an HA restart elsewhere, then the old host came
 * back) is kept where it is active; the stale, inactive copy is returned by {@link #staleCopies()} so
 * the orchestrator can remove it. A VM on a host that left the cluster is LOST until it is seen again.
 */
final class Directory {
    record HostEntry(String host, HostStatus status, boolean up) {}

    record VmEntry(VmSpec spec, io.ferryvm.core.VmInfo info, String host, Placement placement) {}

    /** A copy of a VM that must go: the VM lives on elsewhere. */
    record StaleCopy(UUID vm, String host) {}

    private final Map<String, HostEntry> hosts = new LinkedHashMap<>();
    private final Map<UUID, VmEntry> vms = new LinkedHashMap<>();
    private final Set<UUID> migrating = new HashSet<>();
    private final List<StaleCopy> stale = new ArrayList<>();

    /** A host's report replaces what the directory knew about that host's VMs. */
    void report(HostStatus s) {
        hosts.put(s.host(), new HostEntry(s.host(), s, true));
        Set<UUID> seen = new HashSet<>();
        for (VmRecord r : s.vms()) {
            UUID id = r.spec().id();
            seen.add(id);
            VmEntry known = vms.get(id);
            if (known != null && !known.host().equals(s.host()) && hostUp(known.host()) && known.placement() != Placement.LOST) {
                boolean here = r.info().status().isActive();
                boolean there = known.info().status().isActive();
                if (there && !here) {
                    stale.add(new StaleCopy(id, s.host())); // the VM lives on elsewhere: this copy must go
                    continue;
                }
                if (here && there) {
                    continue; // both ends of a migration in flight: the source's entry stands until it ends
                }
                if (!here) {
                    // Two inactive copies: the older incarnation is stale; with equal epochs keep both definitions.
                    long e = io.ferryvm.cluster.agent.Epochs.of(r.spec());
                    long k = io.ferryvm.cluster.agent.Epochs.of(known.spec());
                    if (e < k) {
                        stale.add(new StaleCopy(id, s.host()));
                        continue;
                    }
                    if (e == k) {
                        continue;
                    }
                    stale.add(new StaleCopy(id, known.host()));
                    vms.put(id, new VmEntry(r.spec(), r.info(), s.host(), Placement.ACTIVE));
                    continue;
                }
                stale.add(new StaleCopy(id, known.host())); // active here, inactive there
            }
            Placement p = migrating.contains(id) ? Placement.MIGRATING : Placement.ACTIVE;
            vms.put(id, new VmEntry(r.spec(), r.info(), s.host(), p));
        }
        // VMs this host held before and no longer reports: gone from it (migrated away or undefined)
        vms.values().removeIf(e -> e.host().equals(s.host()) && !seen.contains(e.spec().id()) && e.placement() != Placement.LOST);
    }

    /**
     * A new orchestrator learns a VM from the replicated directory. Reports win over it: a VM a host has
     * already reported is left alone; otherwise it is LOST when its host is not a live member, else kept
     * until that host's report says how it is.
     */
    boolean seed(OrchestratorProtocol.DirectoryRecord r, boolean hostAlive) {
        if (vms.containsKey(r.spec().id())) {
            return false;
        }
        io.ferryvm.core.VmSpec s = r.spec();
        io.ferryvm.core.VmInfo placeholder = new io.ferryvm.core.VmInfo(s.id(), s.name(), io.ferryvm.core.VmStatus.STOPPED,
                s.vcpus(), s.memoryBytes(), s.workload().program(), 0, 0, io.ferryvm.core.machine.Binding.NONE, false, "");
        vms.put(s.id(), new VmEntry(s, placeholder, r.host(), hostAlive ? Placement.ACTIVE : Placement.LOST));
        return true;
    }

    /** Every VM with the address of its host, as the replica should hold it. */
    Map<UUID, OrchestratorProtocol.DirectoryRecord> records(Map<String, String> knownAddresses) {
        Map<UUID, OrchestratorProtocol.DirectoryRecord> out = new HashMap<>();
        for (VmEntry e : vms.values()) {
            HostEntry h = hosts.get(e.host());
            String address = h != null ? h.status().address() : knownAddresses.getOrDefault(e.host(), "");
            out.put(e.spec().id(), new OrchestratorProtocol.DirectoryRecord(e.spec(), e.host(), address));
        }
        return out;
    }

    /** The host left the cluster: its VMs are lost until seen again. Returns them. */
    List<VmEntry> hostDown(String host) {
        HostEntry h = hosts.get(host);
        if (h != null) {
            hosts.put(host, new HostEntry(host, h.status(), false));
        }
        List<VmEntry> lost = new ArrayList<>();
        for (Map.Entry<UUID, VmEntry> e : vms.entrySet()) {
            VmEntry v = e.getValue();
            if (v.host().equals(host)) {
                VmEntry l = new VmEntry(v.spec(), v.info(), host, Placement.LOST);
                e.setValue(l);
                lost.add(l);
            }
        }
        return lost;
    }

    /** A VM was redefined elsewhere (HA restart): its entry moves there. */
    void moved(VmSpec spec, io.ferryvm.core.VmInfo info, String host) {
        vms.put(spec.id(), new VmEntry(spec, info, host, Placement.ACTIVE));
    }

    void forget(UUID vm) {
        vms.remove(vm);
    }

    void setMigrating(UUID vm, boolean on) {
        if (on) {
            migrating.add(vm);
        } else {
            migrating.remove(vm);
        }
        VmEntry e = vms.get(vm);
        if (e != null && e.placement() != Placement.LOST) {
            vms.put(vm, new VmEntry(e.spec(), e.info(), e.host(), on ? Placement.MIGRATING : Placement.ACTIVE));
        }
    }

    boolean isMigrating(UUID vm) {
        return migrating.contains(vm);
    }

    List<StaleCopy> staleCopies() {
        List<StaleCopy> out = List.copyOf(stale);
        stale.clear();
        return out;
    }

    boolean hostUp(String host) {
        HostEntry h = hosts.get(host);
        return h != null && h.up();
    }

    Optional<HostEntry> host(String name) {
        return Optional.ofNullable(hosts.get(name));
    }

    /** A host by name or by its node address. */
    Optional<HostEntry> hostByAddress(String address) {
        return hosts.values().stream().filter(h -> h.status().address().equals(address)).findFirst();
    }

    List<HostEntry> upHosts() {
        return hosts.values().stream().filter(HostEntry::up).toList();
    }

    /** A VM by id or by name. */
    Optional<VmEntry> vm(String idOrName) {
        try {
            VmEntry e = vms.get(UUID.fromString(idOrName));
            if (e != null) {
                return Optional.of(e);
            }
        } catch (IllegalArgumentException notAUuid) {
            // fall through to names
        }
        return vms.values().stream().filter(v -> v.spec().name().equals(idOrName)).findFirst();
    }

    Optional<VmEntry> vm(UUID id) {
        return Optional.ofNullable(vms.get(id));
    }

    boolean nameTaken(String name) {
        return vms.values().stream().anyMatch(v -> v.spec().name().equals(name));
    }

    List<VmView> vmViews() {
        List<VmView> out = new ArrayList<>();
        for (VmEntry e : vms.values()) {
            out.add(view(e));
        }
        out.sort(Comparator.comparing(v -> v.spec().name()));
        return out;
    }

    static VmView view(VmEntry e) {
        return new VmView(e.spec(), e.info(), e.host(), e.placement());
    }

    List<HostView> hostViews() {
        List<HostView> out = new ArrayList<>();
        for (HostEntry h : hosts.values()) {
            out.add(new HostView(h.host(), h.status().address(), h.up(), h.status().draining(), h.status()));
        }
        out.sort(Comparator.comparing(HostView::host));
        return out;
    }

    /** Every VM the directory places on a host, lost ones included. */
    List<VmEntry> vmsOnIncludingLost(String host) {
        return vms.values().stream().filter(v -> v.host().equals(host)).toList();
    }

    /** VMs on a host, for evacuation. */
    List<VmEntry> vmsOn(String host) {
        return vms.values().stream().filter(v -> v.host().equals(host) && v.placement() != Placement.LOST).toList();
    }

    /** Memory the directory counts as used on each host (active VMs), for placement between reports. */
    Map<String, Long> usedMemory() {
        Map<String, Long> used = new HashMap<>();
        for (VmEntry v : vms.values()) {
            if (v.info().status().isActive() || v.placement() == Placement.MIGRATING) {
                used.merge(v.host(), v.spec().memoryBytes(), Long::sum);
            }
        }
        return used;
    }

    AgentProtocol.HostStatus statusOf(String host) {
        return hosts.get(host).status();
    }
}
