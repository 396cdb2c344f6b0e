package io.ferryvm.migration;

/**
 * Where a migration is, on either side: what progress events carry and what each side journals. The
 * order is libvirt's v3: begin, prepare, perform (pre-copy, switch-over), finish, confirm.
 */
public enum MigrationPhase {
    /** Source: checks passed, the VM is MIGRATING but runs as before. */
    BEGUN,
    /** Target: memory and placement reserved, listening, token issued. */
    PREPARED,
    /** Source: pre-copy iterations; target: receiving. */
    PERFORMING,
    /** Source: the guest is paused for stop-and-copy (still resumable here). */
    SWITCHED_OVER,
    /** The guest runs on the target before all of its memory arrived: from here a failure loses it. */
    POSTCOPY,
    /** Target: memory verified, guest resumed. The point after which the source never resumes. */
    FINISHED,
    /** Source: released the VM for good. */
    CONFIRMED,
    /** Abandoned before finish: the guest runs on the source as before. */
    ABORTED,
    /** Post-copy failed after the target started: neither side can run the guest. */
    GUEST_LOST
}
