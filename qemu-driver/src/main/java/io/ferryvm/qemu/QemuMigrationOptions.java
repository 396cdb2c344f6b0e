package io.ferryvm.qemu;

import java.time.Duration;
import java.util.Objects;

/**
 * How a QEMU guest migrates. DIRECT: QEMU to QEMU over TCP, Ferry only orchestrates (default single
 * stream, or multifd with {@code multifdChannels > 0}). TUNNELLED: QEMU's stream goes through Ferry's
 * channel with LZ4 framing and Ferry's rate limit. QEMU's own knobs: downtime limit, max bandwidth
 * (0 = unlimited), auto-converge, post-copy (switch after {@code postcopyAfterPasses} dirty-sync passes).
 * preallocate: the incoming QEMU backs all guest RAM before the stream starts ({@code prealloc=on} on its
 * memory backend, QEMU's -mem-prealloc), so receiving never waits for first-touch page faults.
 */
public record QemuMigrationOptions(Mode mode, Duration downtimeLimit, long maxBandwidth, int multifdChannels, boolean autoConverge,
        boolean postcopy, int postcopyAfterPasses, boolean lz4, long tunnelRateLimit, Duration timeout, boolean preallocate) {

    public enum Mode { DIRECT, TUNNELLED }

    /** QEMU's max-bandwidth when none is wanted: 1 TiB/s. */
    static final long UNLIMITED = 1L << 40;

    public QemuMigrationOptions {
        Objects.requireNonNull(mode, "mode");
        downtimeLimit = downtimeLimit == null ? Duration.ofMillis(300) : downtimeLimit;
        timeout = timeout == null ? Duration.ofMinutes(5) : timeout;
        if (downtimeLimit.isNegative() || downtimeLimit.toMillis() > 2_000_000) {
            throw new IllegalArgumentException("downtime limit " + downtimeLimit + " outside 0..2000 s (QEMU's bound)");
        }
        if (maxBandwidth < 0 || tunnelRateLimit < 0) {
            throw new IllegalArgumentException("bandwidths must be >= 0 (0 = unlimited), got " + maxBandwidth + " and " + tunnelRateLimit);
        }
        if (multifdChannels < 0 || multifdChannels > 255) {
            throw new IllegalArgumentException("multifd channels " + multifdChannels + " outside 0..255 (0 = off)");
        }
        if (postcopyAfterPasses < 1) {
            throw new IllegalArgumentException("post-copy switch after " + postcopyAfterPasses + " passes: must be >= 1");
        }
        if (mode == Mode.TUNNELLED && (multifdChannels > 0 || postcopy)) {
            // As in libvirt: the tunnel carries one stream one way; multifd needs several, post-copy a return path.
            throw new IllegalArgumentException("tunnelled migration carries neither multifd nor post-copy; use DIRECT");
        }
        if (mode == Mode.DIRECT && (lz4 || tunnelRateLimit > 0)) {
            throw new IllegalArgumentException("LZ4 and the tunnel rate limit apply to TUNNELLED only; DIRECT uses maxBandwidth");
        }
    }

    public static QemuMigrationOptions direct() {
        return new QemuMigrationOptions(Mode.DIRECT, null, 0, 0, false, false, 1, false, 0, null, false);
    }

    public static QemuMigrationOptions tunnelled() {
        return new QemuMigrationOptions(Mode.TUNNELLED, null, 0, 0, false, false, 1, true, 0, null, false);
    }

    public QemuMigrationOptions withDowntimeLimit(Duration d) {
        return new QemuMigrationOptions(mode, d, maxBandwidth, multifdChannels, autoConverge, postcopy, postcopyAfterPasses, lz4, tunnelRateLimit, timeout, preallocate);
    }

    public QemuMigrationOptions withMaxBandwidth(long bytesPerSecond) {
        return new QemuMigrationOptions(mode, downtimeLimit, bytesPerSecond, multifdChannels, autoConverge, postcopy, postcopyAfterPasses, lz4, tunnelRateLimit, timeout, preallocate);
    }

    public QemuMigrationOptions withMultifd(int channels) {
        return new QemuMigrationOptions(mode, downtimeLimit, maxBandwidth, channels, autoConverge, postcopy, postcopyAfterPasses, lz4, tunnelRateLimit, timeout, preallocate);
    }

    public QemuMigrationOptions withAutoConverge(boolean on) {
        return new QemuMigrationOptions(mode, downtimeLimit, maxBandwidth, multifdChannels, on, postcopy, postcopyAfterPasses, lz4, tunnelRateLimit, timeout, preallocate);
    }

    public QemuMigrationOptions withPostcopy(int afterPasses) {
        return new QemuMigrationOptions(mode, downtimeLimit, maxBandwidth, multifdChannels, autoConverge, true, afterPasses, lz4, tunnelRateLimit, timeout, preallocate);
    }

    public QemuMigrationOptions withLz4(boolean on) {
        return new QemuMigrationOptions(mode, downtimeLimit, maxBandwidth, multifdChannels, autoConverge, postcopy, postcopyAfterPasses, on, tunnelRateLimit, timeout, preallocate);
    }

    public QemuMigrationOptions withTunnelRateLimit(long bytesPerSecond) {
        return new QemuMigrationOptions(mode, downtimeLimit, maxBandwidth, multifdChannels, autoConverge, postcopy, postcopyAfterPasses, lz4, bytesPerSecond, timeout, preallocate);
    }

    public QemuMigrationOptions withTimeout(Duration t) {
        return new QemuMigrationOptions(mode, downtimeLimit, maxBandwidth, multifdChannels, autoConverge, postcopy, postcopyAfterPasses, lz4, tunnelRateLimit, t, preallocate);
    }

    public QemuMigrationOptions withPreallocate(boolean on) {
        return new QemuMigrationOptions(mode, downtimeLimit, maxBandwidth, multifdChannels, autoConverge, postcopy, postcopyAfterPasses, lz4, tunnelRateLimit, timeout, on);
    }

    /** "direct", "direct+multifd4", "tunnelled+lz4" ... for reports. */
    public String label() {
        return switch (mode) {
            case DIRECT -> "direct" + (multifdChannels > 0 ? "+multifd" + multifdChannels : "") + (postcopy ? "+postcopy" : "");
            case TUNNELLED -> "tunnelled" + (lz4 ? "+lz4" : "");
        } + (preallocate ? "+prealloc" : "");
    }
}
