package io.ferryvm.numa;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;

/**
 * Plans at most {@code maxMoves} migrations that reduce remote-node memory, needless NUMA splits and
 * stranded capacity. Each round tries moving the worst candidates (VMs with remote memory or split over
 * more nodes than needed, then VMs on the most stranded hosts) to where the scheduler would place them
 * now, and keeps the single move that lowers the cost most; it stops when no move helps.
 *
 * <p>Cost of a host: remote GiB + 8 per needless extra node + 0.5 per stranded pCPU + 0.125 per stranded
 * GiB (a pCPU weighs like 4 GiB, the typical memory per vCPU). A move changes only its two hosts, so
 * each trial is judged by their cost before and after and undone by restoring their immutable states.
 */
public final class Rebalancer {
    private static final int CANDIDATES_PER_ROUND = 64;
    private static final int STRANDED_HOSTS = 8;
    private static final double GIB = 1L << 30;

    private final ClusterScheduler.Config config;
    private final long minVmMemory;

    public Rebalancer(ClusterScheduler.Config config, long minVmMemory) {
        this.config = Objects.requireNonNull(config, "config");
        this.minVmMemory = minVmMemory;
    }

    public RebalancePlan plan(Map<String, HostState> cluster, int maxMoves) {
        Fragmentation before = Fragmentation.of(cluster.values(), minVmMemory);
        ClusterScheduler sim = ClusterScheduler.of(config, cluster.values());
        List<Move> moves = new ArrayList<>();
        Set<UUID> moved = new HashSet<>();
        while (moves.size() < maxMoves) {
            Placement bestVm = null;
            String bestTo = null;
            double bestDelta = -1e-6;
            for (Placement p : candidates(sim.snapshot(), moved)) {
                String from = p.host();
                HostState fromBefore = sim.state(from);
                Fit f = sim.move(p.vm(), null);
                if (!(f instanceof Placement q)) {
                    continue;
                }
                HostState toAfter = sim.state(q.host());
                HostState toBefore = toAfter.without(p.vm());
                double delta = cost(sim.state(from)) + cost(toAfter) - cost(fromBefore) - cost(toBefore);
                sim.restore(q.host(), toBefore);
                sim.restore(from, fromBefore);
                if (delta < bestDelta) {
                    bestDelta = delta;
                    bestVm = p;
                    bestTo = q.host();
                }
            }
            if (bestVm == null) {
                break;
            }
            Fit f = sim.move(bestVm.vm(), bestTo);
            moves.add(new Move(bestVm.vm(), bestVm.host(), bestTo, (Placement) f));
            moved.add(bestVm.vm());
        }
        return new RebalancePlan(moves, before, Fragmentation.of(sim.snapshot().values(), minVmMemory));
    }

    private List<Placement> candidates(Map<String, HostState> snap, Set<UUID> moved) {
        List<Placement> bad = new ArrayList<>();
        List<HostState> hosts = new ArrayList<>(snap.values());
        for (HostState h : hosts) {
            for (Placement p : h.placements()) {
                if (!moved.contains(p.vm()) && badness(h.topo, p) > 0) {
                    bad.add(p);
                }
            }
        }
        bad.sort(Comparator.comparingDouble((Placement p) -> -badness(snap.get(p.host()).topo, p)).thenComparing(Placement::vm));
        List<Placement> out = new ArrayList<>(bad.subList(0, Math.min(CANDIDATES_PER_ROUND, bad.size())));
        hosts.sort(Comparator.comparingDouble((HostState h) -> -strandedCost(h)).thenComparing(HostState::host));
        for (HostState h : hosts.subList(0, Math.min(STRANDED_HOSTS, hosts.size()))) {
            if (strandedCost(h) <= 0) {
                break;
            }
            List<Placement> ps = new ArrayList<>(h.placements());
            ps.sort(Comparator.comparing(Placement::vm));
            for (Placement p : ps) {
                if (out.size() >= 2 * CANDIDATES_PER_ROUND) {
                    return out;
                }
                if (!moved.contains(p.vm()) && !out.contains(p)) {
                    out.add(p);
                }
            }
        }
        return out;
    }

    private static double badness(HostTopology t, Placement p) {
        return p.remoteMemory() / GIB + 8 * Fragmentation.excessNodes(t, p);
    }

    private double strandedCost(HostState h) {
        double[] s = Fragmentation.stranded(h, minVmMemory);
        return 0.5 * s[0] + 0.125 * s[1] / GIB;
    }

    private double cost(HostState h) {
        double c = strandedCost(h);
        for (Placement p : h.placements()) {
            c += badness(h.topo, p);
        }
        return c;
    }
}
