package io.ferryvm.numa;

import java.util.Objects;
import java.util.UUID;

/**
 * One live migration of a plan: the VM, its source and target host, and the placement the planner
 * expects on the target (the target's placer recomputes its own at prepare time; this one is what the
 * plan was judged by).
 */
public record Move(UUID vm, String from, String to, Placement expected) {
    public Move {
        Objects.requireNonNull(vm, "vm");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        Objects.requireNonNull(expected, "expected");
    }
}
