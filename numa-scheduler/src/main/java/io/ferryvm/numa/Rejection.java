package io.ferryvm.numa;

import java.util.Objects;

/**
 * Why a VM was not placed: the first constraint that failed (on the host that came closest) and a
 * message that says what and where, e.g. "host h7 node 1: 6 GiB free small-page memory, guest node 0
 * needs 8 GiB".
 */
public record Rejection(Constraint constraint, String detail) implements Fit {
    public Rejection {
        Objects.requireNonNull(constraint, "constraint");
        Objects.requireNonNull(detail, "detail");
    }

    @Override
    public String toString() {
        return constraint + ": " + detail;
    }
}
