package io.ferryvm.qemu;

import io.ferryvm.migration.Endpoint;

/**
 * The target half of a QEMU migration as the source's {@link QemuMigration} drives it: in this process
 * ({@link QemuIncoming}) or in another Ferry host's, reached through whatever control channel that host
 * offers. Every method may block until the target host answered.
 */
public interface QemuMigrationTarget {
    /**
     * Where the source sends its stream: QEMU's listening URI for DIRECT, Ferry's tunnel endpoint and its
     * one-time token for TUNNELLED (the other fields null).
     */
    record Offer(String qemuUri, Endpoint tunnel, byte[] token) {
        public Offer {
            if ((qemuUri == null) == (tunnel == null) || (tunnel != null) != (token != null)) {
                throw new IllegalArgumentException("an offer has either a QEMU URI or a tunnel endpoint with its token");
            }
            token = token == null ? null : token.clone();
        }

        @Override
        public byte[] token() {
            return token == null ? null : token.clone();
        }
    }

    Offer offer();

    /** Post-copy has been started on the source: the target runs from now on so its faults pull pages. */
    void postcopyStarted();

    /**
     * Finish: waits for the target QEMU's own {@code completed} (and the tunnel's last byte), then resumes
     * the guest if asked. Returns the target's RESUME event time (QMP timestamp, microseconds since the
     * epoch), or -1 when not resumed. Throws MIGRATION (or TIMEOUT) when the target did not complete.
     */
    long finish(boolean resume);

    /** Destroys the target QEMU and closes the tunnel's listener; safe to call more than once. */
    void abort();
}
