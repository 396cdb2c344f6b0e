package io.ferryvm.numa;

import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * How to empty a host: migrations to run in order (a VM moved to make room comes before the VM it
 * makes room for), and the VMs that cannot go anywhere with the reason for each.
 */
public record EvacuationPlan(String host, List<Move> moves, Map<UUID, Rejection> stuck) {
    public EvacuationPlan {
        moves = List.copyOf(moves);
        stuck = Map.copyOf(stuck);
    }

    /** True if every VM of the host has somewhere to go. */
    public boolean complete() {
        return stuck.isEmpty();
    }
}
