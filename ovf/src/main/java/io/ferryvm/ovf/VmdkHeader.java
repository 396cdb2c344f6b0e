package io.ferryvm.ovf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The 512-byte VMDK sparse extent header (little-endian), as in VMware's "Virtual Disk Format 5.0" and
 * libvmdk's notes. Also the footer of a streamOptimized file, which repeats it with the real gdOffset.
 *
 * <pre>
 *  0 magic "KDMV"   4 version   8 flags   12 capacity (sectors)   20 grainSize (sectors)
 * 28 descriptorOffset   36 descriptorSize   44 numGTEsPerGT   48 rgdOffset   56 gdOffset
 * 64 overHead   72 uncleanShutdown   73 '\n' ' ' '\r' '\n'   77 compressAlgorithm   79 pad to 512
 * </pre>
 */
record VmdkHeader(int version, int flags, long capacity, long grainSize, long descriptorOffset, long descriptorSize,
        int numGTEsPerGT, long rgdOffset, long gdOffset, long overHead, int compressAlgorithm) {
    static final int MAGIC = 0x564d444b; // "KDMV" read as a little-endian int
    static final int SECTOR = 512;
    static final long GD_AT_END = -1L;
    static final int FLAG_NEWLINE_TEST = 0x1;
    static final int FLAG_REDUNDANT_GT = 0x2;
    static final int FLAG_ZEROED_GTE = 0x4;
    static final int FLAG_COMPRESSED = 0x10000;
    static final int FLAG_MARKERS = 0x20000;
    static final int COMPRESSION_DEFLATE = 1;

    static VmdkHeader parse(byte[] sector, String source) {
        ByteBuffer b = ByteBuffer.wrap(sector).order(ByteOrder.LITTLE_ENDIAN);
        int magic = b.getInt(0);
        if (magic != MAGIC) {
            throw new OvfException(OvfException.Kind.CORRUPT_DISK, source + ": not a sparse VMDK (magic " + String.format("%08x", magic)
                    + " at byte 0, expected KDMV)");
        }
        VmdkHeader h = new VmdkHeader(b.getInt(4), b.getInt(8), b.getLong(12), b.getLong(20), b.getLong(28), b.getLong(36), b.getInt(44),
                b.getLong(48), b.getLong(56), b.getLong(64), Short.toUnsignedInt(b.getShort(77)));
        h.check(source);
        return h;
    }

    private void check(String source) {
        String bad = null;
        if (version < 1 || version > 3) {
            bad = "version " + version + " (1..3 exist)";
        } else if (grainSize < 8 || grainSize > 2048 || Long.bitCount(grainSize) != 1) {
            bad = "grain size " + grainSize + " sectors (a power of two, 8..2048)";
        } else if (capacity < 0 || capacity > (1L << 47)) {
            bad = "capacity " + capacity + " sectors";
        } else if (numGTEsPerGT != 512 && capacity > 0) {
            bad = "numGTEsPerGT " + numGTEsPerGT + " (512)";
        } else if (overHead < 0 || overHead > (1L << 40)) {
            bad = "overHead " + overHead;
        } else if (compressed() && compressAlgorithm != COMPRESSION_DEFLATE) {
            bad = "compression algorithm " + compressAlgorithm + " (1 = deflate)";
        }
        if (bad != null) {
            throw new OvfException(OvfException.Kind.CORRUPT_DISK, source + ": VMDK header has an impossible " + bad);
        }
    }

    boolean compressed() {
        return (flags & FLAG_COMPRESSED) != 0;
    }

    boolean markers() {
        return (flags & FLAG_MARKERS) != 0;
    }

    long grainBytes() {
        return grainSize * SECTOR;
    }

    long capacityBytes() {
        return capacity * SECTOR;
    }

    long grains() {
        return (capacity + grainSize - 1) / grainSize;
    }

    long tables() {
        return (grains() + numGTEsPerGT - 1) / numGTEsPerGT;
    }

    byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(SECTOR).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(MAGIC).putInt(version).putInt(flags).putLong(capacity).putLong(grainSize).putLong(descriptorOffset)
                .putLong(descriptorSize).putInt(numGTEsPerGT).putLong(rgdOffset).putLong(gdOffset).putLong(overHead);
        b.put((byte) 0).put((byte) '\n').put((byte) ' ').put((byte) '\r').put((byte) '\n');
        b.putShort((short) compressAlgorithm);
        return b.array();
    }

    VmdkHeader withGdOffset(long gd) {
        return new VmdkHeader(version, flags, capacity, grainSize, descriptorOffset, descriptorSize, numGTEsPerGT, rgdOffset, gd, overHead,
                compressAlgorithm);
    }
}
