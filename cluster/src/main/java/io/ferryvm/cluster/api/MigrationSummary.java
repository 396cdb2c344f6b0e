package io.ferryvm.cluster.api;

import java.util.Map;
import java.util.UUID;

/**
 * What a finished (or failed) migration reports: times (total, setup, downtime and its split), work
 * (iterations, wire bytes, pages per codec, XOR cache hit rate), throughput, throttle and post-copy time.
 */
public record MigrationSummary(UUID migrationId, UUID vm, String vmName, String source, String target, boolean success,
        String failure, long totalMs, long setupMs, long downtimeMs, long downtimeMemoryMs, long downtimeStateMs,
        long downtimeActivationMs, int iterations, long wireBytes, long guestBytes, Map<String, Long> pagesByCodec,
        double xorHitRate, double meanMBps, double peakMBps, int throttlePercent, long postCopyMs) {

    public MigrationSummary {
        pagesByCodec = pagesByCodec == null ? Map.of() : Map.copyOf(pagesByCodec);
        failure = failure == null ? "" : failure;
    }

    /** One greppable line. */
    public String line() {
        return String.format(java.util.Locale.ROOT,
                "migration %s vm=%s %s->%s %s total=%dms setup=%dms downtime=%dms (memory %d, state %d, activation %d) "
                        + "iterations=%d wire=%dB guest=%dB pages=%s xor-hit=%.2f mean=%.1fMB/s peak=%.1fMB/s throttle=%d%% postcopy=%dms%s",
                migrationId, vmName, source, target, success ? "OK" : "FAILED", totalMs, setupMs, downtimeMs, downtimeMemoryMs,
                downtimeStateMs, downtimeActivationMs, iterations, wireBytes, guestBytes, pagesByCodec, xorHitRate, meanMBps,
                peakMBps, throttlePercent, postCopyMs, success ? "" : " failure=\"" + failure + "\"");
    }
}
