package io.ferryvm.cluster.api;

import io.ferryvm.cluster.wire.WireMessage;
import java.util.UUID;

/** A migration's progress, published while it runs (iteration, bytes, dirty rate, expected downtime). */
public record MigrationProgress(UUID migrationId, UUID vm, String source, String target, String phase, int iteration,
        long transferredBytes, long remainingBytes, double dirtyRateMiBps, double bandwidthMiBps, long expectedDowntimeMs,
        int throttlePercent) implements WireMessage {}
