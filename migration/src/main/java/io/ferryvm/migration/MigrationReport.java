package io.ferryvm.migration;

import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * What a migration did, successful or not: returned as a record and logged as one greppable line.
 *
 * @param outcome SUCCEEDED (runs on the target), FAILED or CANCELLED (runs on the source as before),
 *                GUEST_LOST (post-copy failed after the target started)
 * @param failure why it did not succeed, or null
 * @param mode "pre-copy", "post-copy" or "stop-and-copy"
 * @param total begin to confirm (or to the failure)
 * @param setup begin to the first page sent: checks, the target's reservation and pre-faulting, handshakes
 * @param downtime source-measured: guest paused to the target reported it running
 * @param targetDowntime target-measured: first frame of the stop-and-copy phase to guest resumed (post-copy:
 *                       POSTCOPY frame received to guest started)
 * @param finalMemory pause to the last dirty page written
 * @param state last page to the target's receipt of state and digests
 * @param activation the target's finish: digest check and resume
 * @param iterations pre-copy iterations (the stop-and-copy pass not counted)
 * @param wireBytes bytes written on all channels, frame headers included
 * @param memoryBytes guest memory size
 * @param pagesByCodec pages sent per codec
 * @param xorHitRate hits / lookups of the XOR cache (0 when unused)
 * @param meanThroughput wire bytes per second over the transfer
 * @param peakThroughput best iteration's wire bytes per second
 * @param dirtyRatesMiBps unique dirty rate measured in each iteration
 * @param throttleReached highest auto-converge throttle applied, percent
 * @param postCopy guest started on the target to its last page installed (zero without post-copy)
 * @param postCopyFaults pages a target vCPU had to wait for
 */
public record MigrationReport(UUID migrationId, String vm, Outcome outcome, MigrationFailure failure, String mode, int channels,
        Duration total, Duration setup, Duration downtime, Duration targetDowntime, Duration finalMemory, Duration state,
        Duration activation, int iterations, long wireBytes, long memoryBytes, Map<CodecId, Long> pagesByCodec, double xorHitRate,
        double meanThroughput, double peakThroughput, List<Double> dirtyRatesMiBps, int throttleReached, Duration postCopy,
        long postCopyFaults) {

    public enum Outcome { SUCCEEDED, FAILED, CANCELLED, GUEST_LOST }

    public MigrationReport {
        EnumMap<CodecId, Long> m = new EnumMap<>(CodecId.class);
        for (CodecId c : CodecId.values()) {
            m.put(c, pagesByCodec.getOrDefault(c, 0L));
        }
        pagesByCodec = Map.copyOf(m);
        dirtyRatesMiBps = List.copyOf(dirtyRatesMiBps);
    }

    public boolean succeeded() {
        return outcome == Outcome.SUCCEEDED;
    }

    public long pages(CodecId c) {
        return pagesByCodec.get(c);
    }

    /** Guest memory over total time, GB/s (10^9): the figure benchmarks compare. */
    public double effectiveGigabytesPerSecond() {
        return total.isZero() ? 0 : memoryBytes / (total.toNanos() / 1e9) / 1e9;
    }

    /** The one log line. */
    public String toLogLine() {
        String codecs = java.util.Arrays.stream(CodecId.values()).map(c -> c.name().toLowerCase(Locale.ROOT) + "=" + pages(c))
                .collect(Collectors.joining(","));
        String rates = dirtyRatesMiBps.stream().map(r -> String.format(Locale.ROOT, "%.0f", r)).collect(Collectors.joining("/"));
        return String.format(Locale.ROOT,
                "migration id=%s vm=%s outcome=%s mode=%s channels=%d total_ms=%d setup_ms=%d downtime_ms=%.1f "
                        + "target_downtime_ms=%.1f final_memory_ms=%.1f state_ms=%.1f activation_ms=%.1f iterations=%d "
                        + "wire_bytes=%d memory_bytes=%d pages=%s xor_hit_rate=%.3f mean_MBps=%.1f peak_MBps=%.1f "
                        + "dirty_MiBps=%s throttle=%d postcopy_ms=%d postcopy_faults=%d failure=\"%s\"",
                migrationId, vm, outcome, mode, channels, total.toMillis(), setup.toMillis(), ms(downtime), ms(targetDowntime),
                ms(finalMemory), ms(state), ms(activation), iterations, wireBytes, memoryBytes, codecs, xorHitRate,
                meanThroughput / 1e6, peakThroughput / 1e6, rates.isEmpty() ? "-" : rates, throttleReached, postCopy.toMillis(),
                postCopyFaults, failure == null ? "" : failure.describe().replace('"', '\''));
    }

    private static double ms(Duration d) {
        return d.toNanos() / 1e6;
    }
}
