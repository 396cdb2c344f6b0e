package io.ferryvm.core;

import java.util.Objects;

/**
 * The one error type of engine-core. {@link Kind} names the variant; the message says what failed and
 * where (the VM, the file and offset, the transition), so it can be shown to a user as it is.
 */
public final class CoreException extends RuntimeException {
    public enum Kind {
        /** A lifecycle request that the VM's current state does not allow. */
        ILLEGAL_TRANSITION,
        /** No such VM (or other named object) on this host. */
        NOT_FOUND,
        /** A VM with that id or name already exists. */
        ALREADY_EXISTS,
        /** A spec or argument that can never be valid. */
        INVALID_SPEC,
        /** The host cannot provide what was asked (memory, CPUs, NUMA nodes). */
        RESOURCES,
        /** Saved state or a save file that is truncated, corrupt or inconsistent. */
        CORRUPT_STATE,
        /** Saved state written in a format version this build cannot read. */
        UNSUPPORTED_VERSION,
        /** A native call (mmap, mbind, sched_setaffinity) that the OS refused. */
        NATIVE,
        /** An I/O failure on the state directory or a save file. */
        IO,
        /** A vCPU could not go on (its post-copy memory can never arrive): the guest is lost. */
        GUEST_CRASHED,
        /** The operation did not complete within its bound (a vCPU that did not reach a safe point). */
        TIMEOUT
    }

    private final Kind kind;

    public CoreException(Kind kind, String message) {
        super(message);
        this.kind = Objects.requireNonNull(kind);
    }

    public CoreException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = Objects.requireNonNull(kind);
    }

    public Kind kind() {
        return kind;
    }
}
