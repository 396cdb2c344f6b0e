package io.ferryvm.migration;

import io.ferryvm.core.VmSpec;
import java.util.Objects;
import java.util.UUID;

/** Begin's output, prepare's input: what the target must get ready for (the control plane carries it). */
public record MigrationOffer(UUID migrationId, VmSpec spec, MigrationRequest request, int protocolVersion, String sourceHost) {
    public MigrationOffer {
        Objects.requireNonNull(migrationId, "migrationId");
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(sourceHost, "sourceHost");
    }
}
