package io.ferryvm.migration;

import java.util.Objects;
import java.util.UUID;

/**
 * Prepare's output, perform's input: where the target listens and the one-time token the source must
 * present on every channel (32 hex digits, 128 random bits). Valid for this migration only.
 */
public record MigrationTicket(UUID migrationId, String token, Endpoint endpoint, String targetHost) {
    public MigrationTicket {
        Objects.requireNonNull(migrationId, "migrationId");
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(targetHost, "targetHost");
        if (token == null || !token.matches("[0-9a-f]{32}")) {
            throw new IllegalArgumentException("token must be 32 lowercase hex digits");
        }
    }

    @Override
    public String toString() {
        return "MigrationTicket[" + migrationId + " at " + endpoint + " on " + targetHost + ", token hidden]";
    }
}
