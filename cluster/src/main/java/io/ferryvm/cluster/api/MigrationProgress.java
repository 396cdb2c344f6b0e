package io.ferryvm.cluster.api;

import io.ferryvm.cluster.wire.WireMessage;
import java.util.UUID;

/**
 * A migration's progress, published while it runs: iteration, wire bytes so far, guest bytes still dirty,
 * the guest's dirty rate against the measured transfer rate, the expected downtime against its limit, and
 * the guest pages sent so far.
 */
public record MigrationProgress(UUID migrationId, UUID vm, String source, String target, String phase, int iteration,
        long transferredBytes, long remainingBytes, double dirtyRateMiBps, double bandwidthMiBps, long expectedDowntimeMs,
        int throttlePercent, long pagesSent, long downtimeLimitMs) implements WireMessage {

    /** Without page count and limit (older senders, tests). */
    public MigrationProgress(UUID migrationId, UUID vm, String source, String target, String phase, int iteration,
            long transferredBytes, long remainingBytes, double dirtyRateMiBps, double bandwidthMiBps, long expectedDowntimeMs,
            int throttlePercent) {
        this(migrationId, vm, source, target, phase, iteration, transferredBytes, remainingBytes, dirtyRateMiBps, bandwidthMiBps,
                expectedDowntimeMs, throttlePercent, 0, 0);
    }
}
