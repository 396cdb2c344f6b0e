package io.ferryvm.ovf;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.PriorityQueue;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Converts a qcow2 image (version 2 or 3, QEMU's docs/interop/qcow2.txt) read as a stream into a raw image.
 *
 * <p>Implementation notes. qcow2 is a random-access format, but the images qemu-img writes (and oVirt ships
 * in its OVAs) place every table before what it points to: the L1 table early, each L2 table before its
 * data clusters. So the reader keeps a queue of places still to visit ordered by file offset, starting
 * with the L1 table; reading an L1 table queues its L2 tables, reading an L2 table queues its data
 * clusters, and the stream only ever moves forward. An image whose layout needs a backward seek is refused
 * with the offsets involved. Compressed clusters (raw deflate) are supported; backing files, encryption,
 * external data files, extended L2 entries and non-zlib compression are refused. Refcounts and snapshots
 * are not needed to read the active image and are skipped.
 */
final class Qcow2Reader {
    private static final int MAGIC = 0x514649fb; // "QFI\xfb"
    private static final long OFFSET_MASK = 0x00fffffffffffe00L;
    private static final long COMPRESSED = 1L << 62;
    private static final int L1 = 0;
    private static final int L2 = 1;
    private static final int DATA = 2;
    private static final int ZDATA = 3;
    private static final long MAX_L1_BYTES = 32L << 20;
    /** Places still to visit; qemu's layout keeps this to about one L2 table's worth. */
    private static final int MAX_PENDING = 1 << 22;

    /** A place in the file to visit: its offset, kind, the guest offset (data) or table index, and length (compressed data). */
    private record Visit(long offset, int kind, long guest, long length) {}

    private Qcow2Reader() {}

    /** Reads the qcow2 stream into sink; the virtual size must equal expectedCapacity. Returns the clusters read. */
    static long toRaw(InputStream raw, String source, long expectedCapacity, RawSink sink) throws IOException {
        StreamInput in = new StreamInput(raw, source);
        byte[] head = new byte[104];
        in.readFully(head, 0, 72);
        ByteBuffer h = ByteBuffer.wrap(head);
        if (h.getInt(0) != MAGIC) {
            throw corrupt(source, 0, "not a qcow2 image (magic " + String.format("%08x", h.getInt(0)) + ")");
        }
        int version = h.getInt(4);
        if (version != 2 && version != 3) {
            throw new OvfException(OvfException.Kind.UNSUPPORTED, source + ": qcow2 version " + version + " (2 and 3 are read)");
        }
        if (h.getLong(8) != 0) {
            throw new OvfException(OvfException.Kind.UNSUPPORTED, source + ": qcow2 with a backing file: import the whole chain as one image");
        }
        int clusterBits = h.getInt(20);
        long size = h.getLong(24);
        if (clusterBits < 9 || clusterBits > 21) {
            throw corrupt(source, 20, "impossible cluster_bits " + clusterBits);
        }
        if (h.getInt(32) != 0) {
            throw new OvfException(OvfException.Kind.UNSUPPORTED, source + ": encrypted qcow2");
        }
        if (size != expectedCapacity) {
            throw corrupt(source, 24, "qcow2 virtual size " + size + " bytes differs from the descriptor's " + expectedCapacity);
        }
        long clusterSize = 1L << clusterBits;
        long l1Entries = Integer.toUnsignedLong(h.getInt(36));
        long l2Entries = clusterSize / 8;
        long needed = (size + clusterSize * l2Entries - 1) / (clusterSize * l2Entries);
        if (l1Entries * 8 > MAX_L1_BYTES) {
            throw new OvfException(OvfException.Kind.TOO_LARGE, source + ": qcow2 L1 table of " + l1Entries + " entries (more than "
                    + MAX_L1_BYTES + " bytes)");
        }
        if (l1Entries < needed || l1Entries > needed + 1024) {
            throw corrupt(source, 36, "L1 table of " + l1Entries + " entries for a " + size + "-byte disk (needs " + needed + ")");
        }
        if (version == 3) {
            in.readFully(head, 72, 32);
            long incompatible = h.getLong(72);
            if ((incompatible & ~1L) != 0) {
                throw new OvfException(OvfException.Kind.UNSUPPORTED, source + ": qcow2 incompatible features 0x" + Long.toHexString(incompatible)
                        + " (corrupt, external data file, zstd or extended L2 entries)");
            }
        }
        PriorityQueue<Visit> queue = new PriorityQueue<>((a, b) -> Long.compare(a.offset, b.offset));
        queue.add(new Visit(h.getLong(40), L1, 0, l1Entries * 8));
        int compressedShift = 62 - (clusterBits - 8);
        long clusters = 0;
        byte[] cluster = new byte[(int) clusterSize];
        while (!queue.isEmpty()) {
            Visit v = queue.poll();
            if (v.offset < in.position()) {
                throw new OvfException(OvfException.Kind.UNSUPPORTED, source + ": qcow2 layout is not readable as a stream (a "
                        + (v.kind == L2 ? "L2 table" : "data cluster") + " at byte " + v.offset + " lies before byte " + in.position()
                        + "): convert it with qemu-img first");
            }
            in.skipTo(v.offset);
            switch (v.kind) {
                case L1, L2 -> {
                    byte[] table = new byte[(int) (v.kind == L1 ? v.length : clusterSize)];
                    in.readFully(table, 0, table.length);
                    ByteBuffer t = ByteBuffer.wrap(table);
                    for (int i = 0; i < table.length / 8; i++) {
                        long e = t.getLong(i * 8);
                        if (queue.size() >= MAX_PENDING) {
                            throw new OvfException(OvfException.Kind.TOO_LARGE, source + ": more than " + MAX_PENDING
                                    + " qcow2 clusters pending (tables far ahead of their data)");
                        }
                        if (v.kind == L1) {
                            long l2 = e & OFFSET_MASK;
                            if (l2 != 0) {
                                queue.add(new Visit(l2, L2, (long) i * l2Entries, 0));
                            }
                            continue;
                        }
                        long guest = (v.guest + i) * clusterSize;
                        if (guest >= size) {
                            break;
                        }
                        if ((e & COMPRESSED) != 0) {
                            long off = e & ((1L << compressedShift) - 1);
                            long sectors = ((e & ~COMPRESSED & ~(1L << 63)) >>> compressedShift) + 1;
                            queue.add(new Visit(off, ZDATA, guest, sectors * 512 - (off & 511)));
                        } else {
                            long off = e & OFFSET_MASK;
                            if (off != 0 && (e & 1) == 0) {
                                queue.add(new Visit(off, DATA, guest, clusterSize));
                            }
                        }
                    }
                }
                case DATA -> {
                    in.readFully(cluster, 0, cluster.length);
                    sink.write(v.guest, cluster, (int) Math.min(clusterSize, size - v.guest));
                    clusters++;
                }
                default -> {
                    // a compressed cluster may end inside the sector where the next one starts
                    long end = v.offset + v.length;
                    if (!queue.isEmpty()) {
                        end = Math.min(end, Math.max(v.offset + 1, queue.peek().offset));
                    }
                    byte[] z = new byte[(int) Math.min(end - v.offset, clusterSize * 2 + 1024)];
                    int n = in.readUpTo(z, 0, z.length);
                    inflate(source, v, z, n, cluster);
                    sink.write(v.guest, cluster, (int) Math.min(clusterSize, size - v.guest));
                    clusters++;
                }
            }
        }
        in.drain();
        return clusters;
    }

    private static void inflate(String source, Visit v, byte[] z, int n, byte[] out) {
        Inflater inf = new Inflater(true);
        try {
            inf.setInput(z, 0, n);
            int done = 0;
            while (done < out.length && !inf.finished()) {
                int k = inf.inflate(out, done, out.length - done);
                if (k == 0 && inf.needsInput()) {
                    break;
                }
                done += k;
            }
            if (done != out.length) {
                throw corrupt(source, v.offset, "compressed cluster for disk offset " + v.guest + " inflates to " + done + " of " + out.length + " bytes");
            }
        } catch (DataFormatException e) {
            throw corrupt(source, v.offset, "corrupt compressed cluster for disk offset " + v.guest + ": " + e.getMessage());
        } finally {
            inf.end();
        }
    }

    private static OvfException corrupt(String source, long at, String what) {
        return new OvfException(OvfException.Kind.CORRUPT_DISK, source + ": " + what + " (byte " + at + ")");
    }
}
