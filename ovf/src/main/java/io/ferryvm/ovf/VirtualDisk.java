package io.ferryvm.ovf;

/**
 * A DiskSection/Disk: capacity as written (a number or a {@code ${property}} reference) in DSP0004 allocation
 * units, the File it is stored in ("" for a blank disk), format URI, populated size (-1: not declared) and
 * the parent disk of a delta ("").
 */
public record VirtualDisk(String diskId, String capacity, String capacityUnits, String fileRef, String format,
        long populatedSize, String parentRef, Extras x) {
    public VirtualDisk {
        capacity = capacity == null ? "" : capacity.strip();
        capacityUnits = capacityUnits == null || capacityUnits.isBlank() ? "byte" : capacityUnits;
        fileRef = fileRef == null ? "" : fileRef;
        format = format == null ? "" : format;
        parentRef = parentRef == null ? "" : parentRef;
        x = x == null ? Extras.NONE : x;
    }

    /** VMDK streamOptimized, as ovftool and VirtualBox write it. */
    public static final String FORMAT_STREAM_OPTIMIZED = "http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized";
    public static final String FORMAT_RAW = "http://en.wikipedia.org/wiki/Byte";
    public static final String FORMAT_QCOW2 = "http://www.gnome.org/~markmc/qcow-image-format.html";
}
