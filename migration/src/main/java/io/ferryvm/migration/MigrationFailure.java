package io.ferryvm.migration;

import java.time.Duration;
import java.util.List;

/**
 * Why a migration did not complete: the one error type of this module, as named variants. Each says what
 * failed and where, so a report or a log line can show it as it is. Thrown inside a
 * {@link MigrationException}; returned in every {@link MigrationReport} of a failed migration.
 */
public sealed interface MigrationFailure {
    /** One line for a user: what happened and where. */
    String describe();

    /** A phase refused to start: lifecycle, resources, version, token or option checks. */
    record Rejected(String phase, String reason) implements MigrationFailure {
        @Override
        public String describe() {
            return phase + " refused: " + reason;
        }
    }

    /** A frame that fails a check: bad magic, CRC, length, sequence, codec, page, count. Nothing of it was installed. */
    record StreamCorrupt(int channel, long frame, String detail) implements MigrationFailure {
        @Override
        public String describe() {
            return "frame " + frame + " on channel " + channel + ": " + detail;
        }
    }

    /** The other side went away: a channel closed or broke, or it sent ABORT. */
    record PeerLost(String peer, String detail) implements MigrationFailure {
        @Override
        public String describe() {
            return peer + " lost: " + detail;
        }
    }

    /** A step did not complete within its bound. */
    record TimedOut(String what, Duration after) implements MigrationFailure {
        @Override
        public String describe() {
            return what + " did not complete within " + after.toMillis() + " ms";
        }
    }

    /** Pre-copy did not reach the downtime limit within the iteration bound, and neither forcing nor post-copy was asked for. */
    record NotConverged(int iterations, long dirtyPages, long expectedDowntimeMillis, int throttlePercent)
            implements MigrationFailure {
        @Override
        public String describe() {
            return "did not converge in " + iterations + " iterations: " + dirtyPages + " pages still dirty, expected downtime "
                    + expectedDowntimeMillis + " ms at throttle " + throttlePercent + "%";
        }
    }

    /** The target's memory differs from the paused source's (at finish). */
    record DigestMismatch(int chunksDiffering, List<Integer> firstChunks) implements MigrationFailure {
        public DigestMismatch {
            firstChunks = List.copyOf(firstChunks);
        }

        @Override
        public String describe() {
            return "memory digest differs in " + chunksDiffering + " MiB chunks, first " + firstChunks;
        }
    }

    /** Cancelled by the control plane before finish. */
    record Cancelled(String reason) implements MigrationFailure {
        @Override
        public String describe() {
            return "cancelled: " + reason;
        }
    }

    /** An armed failpoint fired (tests, chaos runs). */
    record Injected(String point, Failpoints.Action action) implements MigrationFailure {
        @Override
        public String describe() {
            return "failpoint " + point + " fired (" + action.name().toLowerCase() + ")";
        }
    }

    /** This host could not do its part (state directory, memory, the VM's own state). */
    record HostError(String host, String detail) implements MigrationFailure {
        @Override
        public String describe() {
            return "host " + host + ": " + detail;
        }
    }

    /**
     * Post-copy failed after the target started running the guest: neither side holds all of its memory,
     * so the guest is lost (as in QEMU). Only possible when post-copy was asked for.
     */
    record GuestLost(String detail) implements MigrationFailure {
        @Override
        public String describe() {
            return "guest lost in post-copy: " + detail;
        }
    }
}
