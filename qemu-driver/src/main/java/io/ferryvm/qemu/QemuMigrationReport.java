package io.ferryvm.qemu;

import java.time.Duration;

/**
 * What a QEMU migration did: its mode, outcome, wall time, QEMU's downtime (source stop to completion)
 * and Ferry's (source STOP event to target RESUME event, both QMP timestamps), QEMU's RAM bytes, the
 * bytes on the wire (QEMU's for DIRECT, Ferry's framed bytes for TUNNELLED), the raw stream bytes a
 * tunnel carried, and QEMU's dirty-sync passes.
 */
public record QemuMigrationReport(String mode, String outcome, Duration total, long qemuDowntimeMs, long downtimeMs, long ramBytes,
        long wireBytes, long streamBytes, long passes, String failure) {

    public boolean succeeded() {
        return "completed".equals(outcome);
    }

    /** One greppable line. */
    public String toLogLine() {
        return "qemu-migration mode=" + mode + " outcome=" + outcome + " total_ms=" + total.toMillis() + " qemu_downtime_ms=" + qemuDowntimeMs
                + " downtime_ms=" + downtimeMs + " ram_bytes=" + ramBytes + " wire_bytes=" + wireBytes + " stream_bytes=" + streamBytes
                + " passes=" + passes + (failure == null ? "" : " failure=\"" + failure + "\"");
    }
}
