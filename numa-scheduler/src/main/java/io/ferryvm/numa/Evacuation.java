package io.ferryvm.numa;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * Plans the evacuation of a host for maintenance: every VM to a valid placement elsewhere, with as few
 * migrations as possible (one per VM; a VM that fits nowhere may displace one smaller VM, two moves).
 *
 * <p>Implementation notes. Planning runs on a private {@link ClusterScheduler} built from the snapshot
 * with the host disabled; VMs go largest first (best-fit decreasing, so the hard ones choose first). If
 * a VM fits nowhere, up to 16 hosts with the most free memory are tried, each with up to 8 of its
 * smaller VMs: if removing one lets the VM fit and that one fits elsewhere, both moves are planned (the
 * displaced VM first). Trials that fail are undone by restoring the two hosts' earlier immutable states.
 */
public final class Evacuation {
    private static final int ROOM_HOSTS = 16;
    private static final int ROOM_VMS = 8;

    private final ClusterScheduler.Config config;
    private final NumaFitter fitter = new NumaFitter();

    public Evacuation(ClusterScheduler.Config config) {
        this.config = Objects.requireNonNull(config, "config");
    }

    /** A plan to empty {@code host}, given every host's current state. */
    public EvacuationPlan plan(Map<String, HostState> cluster, String host) {
        HostState src = cluster.get(host);
        if (src == null) {
            throw new NumaException(NumaException.Kind.NOT_FOUND, "no host " + host + " to evacuate");
        }
        ClusterScheduler sim = ClusterScheduler.of(config, cluster.values());
        sim.setEnabled(host, false);
        List<Placement> vms = new ArrayList<>(src.placements());
        vms.sort(Comparator.comparingDouble((Placement p) -> -size(p, src.topo)).thenComparing(Placement::vm));
        List<Move> moves = new ArrayList<>();
        Map<UUID, Rejection> stuck = new LinkedHashMap<>();
        for (Placement p : vms) {
            Fit f = sim.move(p.vm(), null);
            if (f instanceof Placement to) {
                moves.add(new Move(p.vm(), host, to.host(), to));
            } else if (!makeRoom(sim, p, host, moves)) {
                stuck.put(p.vm(), (Rejection) f);
            }
        }
        return new EvacuationPlan(host, moves, stuck);
    }

    private boolean makeRoom(ClusterScheduler sim, Placement v, String source, List<Move> moves) {
        List<HostState> hosts = new ArrayList<>();
        for (HostState h : sim.snapshot().values()) {
            if (!h.host().equals(source) && sim.isEnabled(h.host())) {
                hosts.add(h);
            }
        }
        hosts.sort(Comparator.comparingLong((HostState h) -> -h.freeMemory()).thenComparing(HostState::host));
        double vSize = size(v, sim.state(source).topo);
        for (HostState h : hosts.subList(0, Math.min(ROOM_HOSTS, hosts.size()))) {
            List<Placement> small = new ArrayList<>(h.placements());
            small.sort(Comparator.comparingDouble(w -> size(w, h.topo)));
            for (Placement w : small.subList(0, Math.min(ROOM_VMS, small.size()))) {
                if (size(w, h.topo) >= vSize || !fitter.fit(h.without(w.vm()), v.request()).fits()) {
                    continue;
                }
                Fit wf = sim.move(w.vm(), null);
                if (!(wf instanceof Placement wp)) {
                    continue;
                }
                HostState wTarget = sim.state(wp.host());
                Fit vf = sim.move(v.vm(), h.host());
                if (vf instanceof Placement vp) {
                    moves.add(new Move(w.vm(), h.host(), wp.host(), wp));
                    moves.add(new Move(v.vm(), source, h.host(), vp));
                    return true;
                }
                sim.restore(wp.host(), wTarget.without(w.vm()));
                sim.restore(h.host(), h);
            }
        }
        return false;
    }

    /** A VM's dominant share of a host (vCPUs or memory, whichever is larger). */
    static double size(Placement p, HostTopology t) {
        return Math.max((double) p.request().vcpus() / Math.max(1, t.guestCpuCount()),
                (double) p.request().memoryBytes() / Math.max(1, t.totalMemory()));
    }
}
