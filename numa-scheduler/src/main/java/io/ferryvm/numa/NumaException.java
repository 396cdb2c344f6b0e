package io.ferryvm.numa;

import java.util.Objects;

/**
 * The one error type of numa-scheduler: a request that can never be valid, an unknown host or VM, or a
 * claim that would over-commit a host. A VM that merely does not fit is not an error: it is a
 * {@link Rejection}.
 */
public final class NumaException extends RuntimeException {
    public enum Kind {
        /** A request, placement or topology that is inconsistent in itself. */
        INVALID,
        /** No such host or VM. */
        NOT_FOUND,
        /** A VM already placed, or a host already registered. */
        ALREADY_EXISTS,
        /** Committing a placement would double-book a pCPU, over-commit memory or break a policy. */
        OVERCOMMIT
    }

    private final Kind kind;

    public NumaException(Kind kind, String message) {
        super(message);
        this.kind = Objects.requireNonNull(kind);
    }

    public Kind kind() {
        return kind;
    }
}
