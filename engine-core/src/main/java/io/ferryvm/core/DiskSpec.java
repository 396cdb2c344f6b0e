package io.ferryvm.core;

import java.util.Objects;

/**
 * A virtual disk: its image path (on storage both hosts of a migration see), capacity, image format
 * ("raw", "qcow2", "vmdk"), bus ("virtio", "scsi", "sata", "ide") and whether it is read-only.
 */
public record DiskSpec(String name, String path, long capacityBytes, String format, String bus, boolean readOnly) {
    public DiskSpec {
        VmSpec.requireName("disk name", name);
        Objects.requireNonNull(path, "disk " + name + ": path");
        if (capacityBytes < 0) {
            throw new IllegalArgumentException("disk " + name + ": negative capacity " + capacityBytes);
        }
        format = format == null || format.isBlank() ? "raw" : format;
        bus = bus == null || bus.isBlank() ? "virtio" : bus;
    }
}
