package io.ferryvm.migration;

import java.util.UUID;

/**
 * Progress while a migration runs: one per phase change and one per pre-copy iteration.
 *
 * @param dirtyPages pages found dirty after this iteration (what the next one must send)
 * @param dirtyRateMiBps unique pages dirtied per second during the iteration, in MiB/s
 * @param expectedDowntimeMillis remaining dirty pages over the (conservative) page rate
 */
public record MigrationEvent(UUID migrationId, String vm, MigrationPhase phase, int iteration, long pagesSent, long wireBytes,
        long dirtyPages, double dirtyRateMiBps, int throttlePercent, long expectedDowntimeMillis) {}
