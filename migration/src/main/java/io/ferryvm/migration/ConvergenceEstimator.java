package io.ferryvm.migration;

import io.ferryvm.core.Ticker;
import java.util.ArrayDeque;

/**
 * Decides when pre-copy may switch over: the remaining dirty pages must go out within the downtime
 * limit at the page rate this migration has actually achieved.
 *
 * <p>Implementation notes. The rate is measured per iteration (non-zero pages sent over the iteration's
 * time, which includes compression and the bandwidth cap, not a raw link figure; zero pages cost almost
 * nothing and would make a half-empty first pass look fast), and the estimate takes the
 * slowest of the last three iterations that moved at least 256 pages; the first of them counts only until
 * another one is measured, since it alone pays one-time costs (the target backs a chunk's memory when its
 * first data arrives, every cache is cold). QEMU takes the last 100 ms window
 * alone, and one fast window made it switch over with far too much left (654 ms downtime against a
 * 300 ms limit on this machine); a conservative rate errs towards one more iteration instead. On a v3
 * stream an iteration ends when the target acknowledged it (installed and hashed), not when its last
 * byte left the source: socket buffers hold megabytes, so a source-side clock saw compressible pages go
 * out twice as fast as the target could take them, and the final copy, which pays for both, overshot.
 * To the copy the estimate adds what every switch-over costs whatever is left: a durable journal write
 * (the target's FINISHED) as slow as the slowest this side has seen. Time comes through a
 * {@link Ticker}, so tests drive it by hand.
 *
 * <p>Why the state and activation count too: two 4 GiB pre-copy benchmark rows overshot the 300 ms
 * limit (353, 368 ms) because the estimate stopped at the last page, while the paused source still
 * saved and sent the vCPU/device state and digests and waited for the target's READY (86-208 ms there),
 * and the target's activation came on top. What of that is known before the pause counts: the state's
 * encode cost, measured before each decision on a state of the guest's shape (the latest, so one stalled
 * probe costs an iteration, not the migration), its bytes with the digests at the capped or peak
 * measured byte rate, and the activation this host last measured, or a conservative allowance before
 * the first. Activation includes the target's FINISHED write, which the journal cost stands in for, so
 * the larger of the two counts, not both. A source descheduled by other load inside the downtime is not
 * predictable from here and is not covered.
 */
final class ConvergenceEstimator {
    private static final int WINDOWS = 3;
    private static final int MIN_PAGES = 256;
    /** Each side re-hashes every chunk the final pages touch: about 0.3 ms per MiB chunk here (xxHash64, cold memory). */
    private static final long CHUNK_NANOS = 300_000L;
    /** Activation before this host measured one: define and resume the guest, one fsync; generous for this machine. */
    static final long ACTIVATION_ALLOWANCE_NANOS = 30_000_000L;

    private final Ticker ticker;
    private final ArrayDeque<Double> rates = new ArrayDeque<>();
    /** The first measured iteration's rate, used only until a later iteration is measured. */
    private double firstRate;
    private long iterationStart;
    private long lastHarvest;
    private double peakBytesPerSecond;
    private long switchoverCost;
    private final long capBytesPerSecond;
    private long stateNanos;
    private long stateBytes;
    private long activationNanos = ACTIVATION_ALLOWANCE_NANOS;

    ConvergenceEstimator(Ticker ticker) {
        this(ticker, 0);
    }

    /** capBytesPerSecond: the request's bandwidth cap, 0 for none. */
    ConvergenceEstimator(Ticker ticker, long capBytesPerSecond) {
        this.ticker = ticker;
        this.lastHarvest = ticker.nanos();
        this.capBytesPerSecond = capBytesPerSecond;
    }

    void iterationStarted() {
        iterationStart = ticker.nanos();
    }

    /** Records an iteration's non-zero pages and wire bytes; returns its duration in nanoseconds. */
    long iterationEnded(long pages, long wireBytes) {
        long nanos = Math.max(1, ticker.nanos() - iterationStart);
        if (pages >= MIN_PAGES) {
            double r = pages * 1e9 / nanos;
            if (firstRate == 0 && rates.isEmpty()) {
                firstRate = r;
            } else {
                rates.addLast(r);
                if (rates.size() > WINDOWS) {
                    rates.removeFirst();
                }
            }
        }
        peakBytesPerSecond = Math.max(peakBytesPerSecond, wireBytes * 1e9 / nanos);
        return nanos;
    }

    /** Unique dirty pages per second since the previous harvest. */
    double harvested(long dirtyPages) {
        long now = ticker.nanos();
        double rate = dirtyPages * 1e9 / Math.max(1, now - lastHarvest);
        lastHarvest = now;
        return rate;
    }

    /** The conservative page rate, or 0 before any iteration moved enough pages to measure. */
    double pagesPerSecond() {
        if (rates.isEmpty()) {
            return firstRate;
        }
        double min = Double.MAX_VALUE;
        for (double r : rates) {
            min = Math.min(min, r);
        }
        return min;
    }

    /** A fixed cost every switch-over pays (a durable journal write seen on this host); the largest seen counts. */
    void switchoverCost(long nanos) {
        switchoverCost = Math.max(switchoverCost, nanos);
    }

    /** Encoding the guest's state took nanos (latest probe, guest running); bytes of state and digests follow. */
    void stateCost(long nanos, long bytes) {
        stateNanos = nanos;
        stateBytes = bytes;
    }

    /** The target's activation as last measured on this host; without one the allowance stays. */
    void activationCost(long nanos) {
        if (nanos > 0) {
            activationNanos = nanos;
        }
    }

    /** What every switch-over costs whatever pages are left: state save and transfer, then activation. */
    private long fixedNanos() {
        double byteRate = capBytesPerSecond > 0 && peakBytesPerSecond > 0 ? Math.min(capBytesPerSecond, peakBytesPerSecond)
                : capBytesPerSecond > 0 ? capBytesPerSecond : peakBytesPerSecond;
        long send = byteRate > 0 ? (long) (stateBytes * 1e9 / byteRate) : 0;
        return stateNanos + send + Math.max(switchoverCost, activationNanos);
    }

    /**
     * Expected downtime of a stop-and-copy of these dirty pages spread over dirtyChunks chunks, fixed costs
     * (journal, state, activation) included; MAX_VALUE when unknown.
     */
    long expectedDowntimeNanos(long dirtyPages, long dirtyChunks, int channels) {
        double rate = pagesPerSecond();
        if (dirtyPages == 0) {
            return fixedNanos();
        }
        if (rate <= 0) {
            return Long.MAX_VALUE;
        }
        return (long) (dirtyPages * 1e9 / rate) + dirtyChunks * CHUNK_NANOS / Math.max(1, channels) + fixedNanos();
    }

    double peakBytesPerSecond() {
        return peakBytesPerSecond;
    }
}
