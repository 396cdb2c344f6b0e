package io.ferryvm.cluster.api;

/**
 * How to migrate, as users of virsh migrate and QEMU set it: downtime limit (ms), bandwidth cap
 * (MiB/s, 0 = unlimited), parallel channels, compression ("lz4", "xor+lz4", "none"), auto-converge,
 * post-copy (with its trade-off: once the target runs, losing either side loses the guest), an iteration
 * bound and an overall timeout in seconds (0 = none). For guests of a hypervisor driver (QEMU),
 * hypervisorMode chooses how the hypervisor's own stream travels: "tunnelled" (default: through Ferry's
 * channel, LZ4-framed unless compression is "none", one stream) or "direct" (QEMU to QEMU, Ferry only
 * orchestrating; channels > 1 are QEMU's multifd); built-in guests ignore it. preallocate: the target backs
 * all of the guest's memory before the source sends (for QEMU guests its prealloc=on, -mem-prealloc): a
 * longer setup, a transfer that never waits for the target's page faults.
 */
public record MigrationOptions(long downtimeLimitMs, double bandwidthMiBps, int channels, String compression,
        boolean autoConverge, boolean postCopy, int maxIterations, long timeoutSeconds, String hypervisorMode,
        Boolean preallocate) {

    public static final MigrationOptions DEFAULT = new MigrationOptions(300, 0, 2, "lz4", true, false, 30, 0);

    /** Options with the default hypervisor mode (tunnelled). */
    public MigrationOptions(long downtimeLimitMs, double bandwidthMiBps, int channels, String compression,
            boolean autoConverge, boolean postCopy, int maxIterations, long timeoutSeconds) {
        this(downtimeLimitMs, bandwidthMiBps, channels, compression, autoConverge, postCopy, maxIterations, timeoutSeconds, null);
    }

    /** Options with a hypervisor mode, not preallocating. */
    public MigrationOptions(long downtimeLimitMs, double bandwidthMiBps, int channels, String compression,
            boolean autoConverge, boolean postCopy, int maxIterations, long timeoutSeconds, String hypervisorMode) {
        this(downtimeLimitMs, bandwidthMiBps, channels, compression, autoConverge, postCopy, maxIterations, timeoutSeconds,
                hypervisorMode, false);
    }

    /** The same options with another hypervisor mode. */
    public MigrationOptions withHypervisorMode(String mode) {
        return new MigrationOptions(downtimeLimitMs, bandwidthMiBps, channels, compression, autoConverge, postCopy, maxIterations,
                timeoutSeconds, mode, preallocate);
    }

    /** The same options, the target preallocating or not. */
    public MigrationOptions withPreallocate(boolean on) {
        return new MigrationOptions(downtimeLimitMs, bandwidthMiBps, channels, compression, autoConverge, postCopy, maxIterations,
                timeoutSeconds, hypervisorMode, on);
    }

    public MigrationOptions {
        if (downtimeLimitMs < 1 || downtimeLimitMs > 600_000) {
            throw new IllegalArgumentException("downtime limit " + downtimeLimitMs + " ms outside 1..600000");
        }
        if (!(bandwidthMiBps >= 0) || Double.isInfinite(bandwidthMiBps)) {
            throw new IllegalArgumentException("bandwidth " + bandwidthMiBps + " MiB/s must be >= 0 (0 = unlimited)");
        }
        if (channels < 1 || channels > 16) {
            throw new IllegalArgumentException("channels " + channels + " outside 1..16");
        }
        compression = compression == null || compression.isBlank() ? "lz4" : compression;
        if (!compression.equals("lz4") && !compression.equals("xor+lz4") && !compression.equals("none")) {
            throw new IllegalArgumentException("compression '" + compression + "': use lz4, xor+lz4 or none");
        }
        if (maxIterations < 1 || maxIterations > 10_000) {
            throw new IllegalArgumentException("max iterations " + maxIterations + " outside 1..10000");
        }
        hypervisorMode = hypervisorMode == null || hypervisorMode.isBlank() ? "tunnelled" : hypervisorMode;
        if (!hypervisorMode.equals("tunnelled") && !hypervisorMode.equals("direct")) {
            throw new IllegalArgumentException("hypervisor mode '" + hypervisorMode + "': use tunnelled or direct");
        }
        preallocate = Boolean.TRUE.equals(preallocate); // absent from older clients' JSON: off
        if (timeoutSeconds < 0) {
            throw new IllegalArgumentException("timeout " + timeoutSeconds + " s must be >= 0");
        }
    }
}
