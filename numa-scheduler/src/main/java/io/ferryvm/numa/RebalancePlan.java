package io.ferryvm.numa;

import java.util.List;

/** Migrations that reduce remote memory, needless splits and stranded capacity, with the cluster's score before and after. */
public record RebalancePlan(List<Move> moves, Fragmentation before, Fragmentation after) {
    public RebalancePlan {
        moves = List.copyOf(moves);
    }
}
