package io.ferryvm.migration;

import java.util.Objects;

/** Carries a {@link MigrationFailure} up the stack; the failure, not the exception class, says what went wrong. */
public final class MigrationException extends RuntimeException {
    private final transient MigrationFailure failure;

    public MigrationException(MigrationFailure failure) {
        this(failure, null);
    }

    public MigrationException(MigrationFailure failure, Throwable cause) {
        super(failure.describe(), cause);
        this.failure = Objects.requireNonNull(failure);
    }

    public MigrationFailure failure() {
        return failure;
    }

    static MigrationException corrupt(int channel, long frame, String detail) {
        return new MigrationException(new MigrationFailure.StreamCorrupt(channel, frame, detail));
    }
}
