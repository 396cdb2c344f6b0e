package io.ferryvm.core.state;

/**
 * A piece of VM state that travels with the VM (save file, live migration): it saves itself as a record;
 * each implementing type offers a static {@code restore(resources..., state)}. Runtime handles (memory,
 * CPU binder) are restore arguments, never state.
 */
public interface Migratable<S extends Record> {
    /** A stable name for this piece of state within its VM (e.g. "vcpu0", "serial0"). */
    String id();

    /** The state as a value; the caller makes sure the owner is quiescent (paused) if it needs consistency. */
    S save();
}
