package io.ferryvm.migration;

import java.time.Duration;
import java.util.Objects;

/**
 * How to migrate: every knob in one immutable record, defaults from QEMU where QEMU has one (300 ms
 * downtime limit, auto-converge 20% + 10% per iteration, 64 MiB XOR cache). Bandwidth 0 means no cap.
 *
 * @param channels parallel channels (multifd-like), 1..16; pages are partitioned over them by 1 MiB chunk
 * @param compression which page codecs may be used
 * @param bandwidthBytesPerSecond cap on wire bytes over all channels; 0 = unlimited
 * @param downtimeLimit switch over once the expected stop-and-copy time is within this
 * @param maxIterations pre-copy iterations before {@code onNonConvergence} applies
 * @param autoConverge throttle the vCPUs while pre-copy does not converge
 * @param onNonConvergence what happens when maxIterations pass without convergence
 * @param xorCacheBytes the XOR-delta codec's cache of last-sent pages (shared out over channels)
 * @param stopAndCopy the naive baseline: pause first, copy everything once, resume on the target
 * @param timeout bound on each wait for the peer (channel handshake, receipt, finish)
 * @param preallocate the target backs all of the guest's memory with host memory at prepare, before the
 *        source sends anything (QEMU's {@code -mem-prealloc} on the destination): setup takes longer, the
 *        transfer does not wait for the target's page faults; off, each 1 MiB chunk is backed when its first
 *        non-zero page arrives, and chunks that arrive as zeros cost no host memory
 */
public record MigrationRequest(int channels, Compression compression, long bandwidthBytesPerSecond, Duration downtimeLimit,
        int maxIterations, boolean autoConverge, NonConvergence onNonConvergence, long xorCacheBytes, boolean stopAndCopy,
        Duration timeout, boolean preallocate) {

    /** What to do when pre-copy has not converged after maxIterations. */
    public enum NonConvergence {
        /** Give up: the guest keeps running on the source (the safe default). */
        FAIL,
        /** Stop and copy what is left, whatever the downtime. */
        FORCE,
        /** Start the guest on the target and fetch the rest on demand; a failure from then on loses the guest. */
        POST_COPY
    }

    public static final int MAX_CHANNELS = 16;

    public MigrationRequest {
        if (channels < 1 || channels > MAX_CHANNELS) {
            throw new IllegalArgumentException("channels " + channels + " outside 1.." + MAX_CHANNELS);
        }
        Objects.requireNonNull(compression, "compression");
        if (bandwidthBytesPerSecond < 0) {
            throw new IllegalArgumentException("bandwidth cap " + bandwidthBytesPerSecond + " B/s < 0");
        }
        Objects.requireNonNull(downtimeLimit, "downtimeLimit");
        if (downtimeLimit.isNegative() || downtimeLimit.isZero()) {
            throw new IllegalArgumentException("downtime limit must be positive");
        }
        if (maxIterations < 1 || maxIterations > 10_000) {
            throw new IllegalArgumentException("max iterations " + maxIterations + " outside 1..10000");
        }
        Objects.requireNonNull(onNonConvergence, "onNonConvergence");
        if (xorCacheBytes < 0) {
            throw new IllegalArgumentException("XOR cache of " + xorCacheBytes + " bytes < 0");
        }
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive");
        }
    }

    public static MigrationRequest defaults() {
        return new MigrationRequest(2, Compression.LZ4, 0, Duration.ofMillis(300), 30, false, NonConvergence.FAIL, 64L << 20,
                false, Duration.ofSeconds(60), false);
    }

    public MigrationRequest withChannels(int n) {
        return new MigrationRequest(n, compression, bandwidthBytesPerSecond, downtimeLimit, maxIterations, autoConverge,
                onNonConvergence, xorCacheBytes, stopAndCopy, timeout, preallocate);
    }

    public MigrationRequest withCompression(Compression c) {
        return new MigrationRequest(channels, c, bandwidthBytesPerSecond, downtimeLimit, maxIterations, autoConverge,
                onNonConvergence, xorCacheBytes, stopAndCopy, timeout, preallocate);
    }

    public MigrationRequest withBandwidth(long bytesPerSecond) {
        return new MigrationRequest(channels, compression, bytesPerSecond, downtimeLimit, maxIterations, autoConverge,
                onNonConvergence, xorCacheBytes, stopAndCopy, timeout, preallocate);
    }

    public MigrationRequest withDowntimeLimit(Duration d) {
        return new MigrationRequest(channels, compression, bandwidthBytesPerSecond, d, maxIterations, autoConverge,
                onNonConvergence, xorCacheBytes, stopAndCopy, timeout, preallocate);
    }

    public MigrationRequest withMaxIterations(int n) {
        return new MigrationRequest(channels, compression, bandwidthBytesPerSecond, downtimeLimit, n, autoConverge,
                onNonConvergence, xorCacheBytes, stopAndCopy, timeout, preallocate);
    }

    public MigrationRequest withAutoConverge(boolean on) {
        return new MigrationRequest(channels, compression, bandwidthBytesPerSecond, downtimeLimit, maxIterations, on,
                onNonConvergence, xorCacheBytes, stopAndCopy, timeout, preallocate);
    }

    public MigrationRequest withNonConvergence(NonConvergence n) {
        return new MigrationRequest(channels, compression, bandwidthBytesPerSecond, downtimeLimit, maxIterations, autoConverge,
                n, xorCacheBytes, stopAndCopy, timeout, preallocate);
    }

    public MigrationRequest withXorCache(long bytes) {
        return new MigrationRequest(channels, compression, bandwidthBytesPerSecond, downtimeLimit, maxIterations, autoConverge,
                onNonConvergence, bytes, stopAndCopy, timeout, preallocate);
    }

    public MigrationRequest withStopAndCopy(boolean on) {
        return new MigrationRequest(channels, compression, bandwidthBytesPerSecond, downtimeLimit, maxIterations, autoConverge,
                onNonConvergence, xorCacheBytes, on, timeout, preallocate);
    }

    public MigrationRequest withTimeout(Duration t) {
        return new MigrationRequest(channels, compression, bandwidthBytesPerSecond, downtimeLimit, maxIterations, autoConverge,
                onNonConvergence, xorCacheBytes, stopAndCopy, t, preallocate);
    }

    public MigrationRequest withPreallocate(boolean on) {
        return new MigrationRequest(channels, compression, bandwidthBytesPerSecond, downtimeLimit, maxIterations, autoConverge,
                onNonConvergence, xorCacheBytes, stopAndCopy, timeout, on);
    }
}
