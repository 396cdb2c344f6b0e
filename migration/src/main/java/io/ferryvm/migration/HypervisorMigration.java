package io.ferryvm.migration;

import io.ferryvm.core.VmSpec;
import io.ferryvm.core.machine.Binding;
import java.time.Duration;
import java.util.UUID;

/**
 * Live migration for a hypervisor driver that moves guests with its own mechanism (QEMU's dirty tracking
 * and stream), run under Ferry's phases: begin and perform on the source, prepare, finish and abort on
 * the target. A driver offers it by implementing this interface next to engine-core's
 * {@code HypervisorDriver}; the cluster carries the {@link Target} calls between two hosts' agents.
 *
 * <p>The guarantee is the built-in migration's: until the target's {@link Target#finish} succeeded the
 * source can resume, and after it the source never does. Post-copy is the documented exception (once it
 * starts, the target runs and losing either side loses the guest), so it must be asked for.
 */
public interface HypervisorMigration {

    /**
     * How to migrate. TUNNELLED carries the hypervisor's stream through Ferry's channel with LZ4 framing
     * ({@code compress}) and Ferry's rate limit ({@code tunnelRateLimit}); DIRECT lets the hypervisors
     * connect to each other, Ferry only orchestrating ({@code parallelChannels} > 0: QEMU's multifd).
     * {@code maxBandwidth} and {@code tunnelRateLimit} are bytes per second, 0 = unlimited.
     */
    record Options(Mode mode, boolean compress, Duration downtimeLimit, long maxBandwidth, int parallelChannels,
            boolean autoConverge, boolean postcopy, long tunnelRateLimit, Duration timeout, boolean preallocate) {
        public enum Mode { DIRECT, TUNNELLED }

        /** Options whose target does not preallocate guest memory. */
        public Options(Mode mode, boolean compress, Duration downtimeLimit, long maxBandwidth, int parallelChannels,
                boolean autoConverge, boolean postcopy, long tunnelRateLimit, Duration timeout) {
            this(mode, compress, downtimeLimit, maxBandwidth, parallelChannels, autoConverge, postcopy, tunnelRateLimit, timeout, false);
        }

        public Options {
            java.util.Objects.requireNonNull(mode, "mode");
            downtimeLimit = downtimeLimit == null ? Duration.ofMillis(300) : downtimeLimit;
            timeout = timeout == null ? Duration.ofMinutes(5) : timeout;
        }
    }

    /**
     * Where the source sends its stream: the hypervisor's listening URI for DIRECT, Ferry's tunnel
     * endpoint and its one-time token for TUNNELLED (the other fields null).
     */
    record Offer(String directUri, Endpoint tunnel, byte[] token) {
        public Offer {
            if ((directUri == null) == (tunnel == null) || (tunnel != null) != (token != null)) {
                throw new IllegalArgumentException("an offer has either a direct URI or a tunnel endpoint with its token");
            }
            token = token == null ? null : token.clone();
        }

        @Override
        public byte[] token() {
            return token == null ? null : token.clone();
        }
    }

    /** A running migration's state as the hypervisor reports it (bytes of guest memory). */
    record Progress(String status, long transferred, long remaining, long total, long passes, double mbps) {}

    /**
     * What a migration did: mode label, outcome ("completed", "failed", "cancelled"), wall time, the
     * downtime the hypervisor measured and Ferry's (source stop to target resume, -1 if unknown), guest
     * memory bytes sent, bytes on the wire, dirty-sync passes, the failure (null on success), and one log line.
     */
    record Report(String mode, String outcome, Duration total, long hypervisorDowntimeMs, long downtimeMs, long memoryBytes,
            long wireBytes, long passes, String failure, String line) {
        public boolean succeeded() {
            return "completed".equals(outcome);
        }
    }

    /**
     * The target half as the source drives it: on this host, or on another one reached through whatever
     * control channel joins the hosts. Every method may block until the target host answered.
     */
    interface Target {
        Offer offer();

        /** Post-copy has been started on the source: the target runs from now on so its faults pull pages. */
        void postcopyStarted();

        /**
         * Finish: waits for the target's own end of the stream, then resumes the guest if asked. Returns
         * the target's resume time (microseconds since the epoch), or -1 when not resumed; throws when the
         * target did not complete.
         */
        long finish(boolean resume);

        /** Destroys the incoming guest and closes its listener; safe to call more than once. */
        void abort();
    }

    /** The source half of one migration, begun; perform blocks until it ended. */
    interface Outgoing {
        /**
         * Migrates to the target, finishes there and confirms here (the source guest goes). Returns the
         * report; a failed or cancelled migration returns a report that says why, the target aborted and the
         * source running as before.
         */
        Report perform(Target target);

        /** Cancels a running perform from another thread (before finish). */
        void cancel();

        Progress progress();
    }

    /** Prepare on this host: an incoming guest for spec, paused, placed with binding, listening on transport. */
    Target prepareIncoming(VmSpec spec, Binding binding, Options options, Transport transport);

    /** Begin on this host: checks that the guest can migrate now; the tunnel (if any) connects through transport. */
    Outgoing begin(UUID vm, Options options, Transport transport);
}
