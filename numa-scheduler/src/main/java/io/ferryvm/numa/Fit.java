package io.ferryvm.numa;

/** The outcome of fitting a VM: a {@link Placement} or a {@link Rejection}. */
public sealed interface Fit permits Placement, Rejection {
    /** True for a placement. */
    default boolean fits() {
        return this instanceof Placement;
    }
}
