package io.ferryvm.core;

/** Every request that changes a VM's status; {@link Lifecycle} says which are legal from where. */
public enum VmAction {
    START,
    PAUSE,
    RESUME,
    STOP,
    /** Save to a file (virsh save): the VM ends stopped on success. */
    SAVE,
    /** Restore from a file onto a defined or stopped VM. */
    RESTORE,
    UNDEFINE,
    /** Source: an outgoing migration begins (the guest keeps its run state). */
    MIGRATE_OUT,
    /** Source: the migration failed or was cancelled before finish: back to the status before it. */
    MIGRATE_OUT_ABORT,
    /** Source: confirm after a successful finish: the VM leaves this host. */
    MIGRATE_OUT_DONE,
    /**
     * Source: post-copy lost the guest (it may have run on the target, so this copy must never resume): the
     * VM is stopped here, its definition intact, to be started again from it.
     */
    MIGRATE_OUT_LOST,
    /** Target: the incoming VM is resumed (or left paused) after finish. */
    MIGRATE_IN_DONE,
    /** Target: the incoming migration failed: the half-received VM is discarded. */
    MIGRATE_IN_ABORT
}
