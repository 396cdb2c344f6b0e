package io.ferryvm.ovf;

/**
 * Bounds applied to hostile input before anything is allocated: descriptor bytes, XML depth and element
 * count, small package members (manifest, certificate), archive members, and the largest disk accepted.
 */
public record Limits(int maxDescriptorBytes, int maxDepth, int maxElements, int maxSmallFileBytes, int maxMembers,
        long maxDiskBytes) {

    /** Real descriptors are below 1 MiB (the largest in the corpus is 331 KB, vCenter's appliance). */
    public static final Limits DEFAULT = new Limits(8 << 20, 64, 500_000, 1 << 20, 10_000, 64L << 40);

    public Limits {
        if (maxDescriptorBytes <= 0 || maxDepth <= 0 || maxElements <= 0 || maxSmallFileBytes <= 0 || maxMembers <= 0
                || maxDiskBytes <= 0) {
            throw new IllegalArgumentException("limits must be positive");
        }
    }

    public Limits withMaxDescriptorBytes(int bytes) {
        return new Limits(bytes, maxDepth, maxElements, maxSmallFileBytes, maxMembers, maxDiskBytes);
    }
}
