package io.ferryvm.ovf;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Converts a sparse VMDK read as a stream (never seeking back) into a raw image.
 *
 * <p>Implementation notes. streamOptimized: after the header and overhead come markers, each
 * {@code uint64 lba, uint32 size}: size > 0 is a grain of zlib data (RFC 1950) padded to a sector; size 0 is
 * a metadata marker whose next uint32 is its type (0 end of stream, 1 grain table, 2 grain directory,
 * 3 footer) and whose lba field counts the metadata sectors that follow. VMware writes GD_AT_END in the
 * header and a footer plus end-of-stream marker; qemu-img puts GD and GTs in the overhead and simply
 * stops after the last grain. Truncation is therefore caught by the missing end-of-stream marker
 * (VMware) or by grains the grain tables promise but the stream never delivers (qemu).
 * monolithicSparse: uncompressed grains located by GD/GT, which qemu and VMware write before the grains;
 * the tables are read first and the grains are then visited in file order.
 *
 * <p>Every grain is checked before anything is written: its LBA is grain-aligned and inside the
 * capacity, seen once, and inflates to exactly a grain (or the disk's tail). Inflation runs on all cores.
 */
final class VmdkReader {
    private static final int MARKER_EOS = 0;
    private static final int MARKER_GT = 1;
    private static final int MARKER_GD = 2;
    private static final int MARKER_FOOTER = 3;
    private static final int MAX_DESCRIPTOR = 1 << 20;
    /** Grain bookkeeping (the seen-grains bitset and qemu's tables) is kept for disks up to 2^26 grains (4 TiB at 64 KiB). */
    private static final long MAX_TRACKED_GRAINS = 1L << 26;
    /** monolithicSparse keeps one long per allocated grain to visit them in file order: 2^24 (1 TiB of data) at most. */
    private static final int MAX_SPARSE_GRAINS = 1 << 24;

    /** What a conversion found: the header, the create type, grains written and the bytes of the VMDK stream. */
    record Result(long capacityBytes, String createType, long grains, long vmdkBytes) {}

    private VmdkReader() {}

    static Result toRaw(InputStream raw, String source, long expectedCapacity, RawSink sink, int threads) throws IOException {
        StreamInput in = new StreamInput(raw, source);
        byte[] sector = new byte[VmdkHeader.SECTOR];
        in.readFully(sector, 0, sector.length);
        VmdkHeader h = VmdkHeader.parse(sector, source);
        if (expectedCapacity >= 0 && h.capacityBytes() != expectedCapacity) {
            throw new OvfException(OvfException.Kind.CORRUPT_DISK, source + ": VMDK capacity " + h.capacityBytes()
                    + " bytes differs from the descriptor's " + expectedCapacity);
        }
        String createType = "";
        if (h.descriptorOffset() > 0 && h.descriptorSize() > 0) {
            if (h.descriptorSize() * VmdkHeader.SECTOR > MAX_DESCRIPTOR) {
                throw new OvfException(OvfException.Kind.CORRUPT_DISK, source + ": embedded descriptor of " + h.descriptorSize() + " sectors is too large");
            }
            in.skipTo(h.descriptorOffset() * VmdkHeader.SECTOR);
            byte[] d = new byte[(int) (h.descriptorSize() * VmdkHeader.SECTOR)];
            in.readFully(d, 0, d.length);
            createType = createType(new String(d, StandardCharsets.UTF_8));
        }
        try (GrainPool pool = new GrainPool(threads)) {
            long grains = h.markers() ? streamOptimized(in, h, sink, pool) : sparse(in, h, sink, pool);
            pool.drain();
            return new Result(h.capacityBytes(), createType, grains, in.position());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OvfException(OvfException.Kind.IO, source + ": interrupted", e);
        }
    }

    static String createType(String descriptor) {
        for (String line : descriptor.split("\n")) {
            String l = line.strip();
            if (l.startsWith("createType")) {
                int q = l.indexOf('"');
                int e = l.lastIndexOf('"');
                return q >= 0 && e > q ? l.substring(q + 1, e) : "";
            }
        }
        return "";
    }

    private static OvfException corrupt(StreamInput in, long at, String what) {
        return new OvfException(OvfException.Kind.CORRUPT_DISK, in.source() + ": " + what + " (byte " + at + ")");
    }

    private static long streamOptimized(StreamInput in, VmdkHeader h, RawSink sink, GrainPool pool) throws IOException, InterruptedException {
        if (!h.compressed()) {
            throw new OvfException(OvfException.Kind.UNSUPPORTED, in.source() + ": VMDK with markers but uncompressed grains");
        }
        long grainBytes = h.grainBytes();
        long capacity = h.capacityBytes();
        long tracked = h.grains() <= MAX_TRACKED_GRAINS ? h.grains() : 0;
        BitSet seen = tracked > 0 ? new BitSet((int) tracked) : null;
        int[][] qemuTable = null;
        long promised = 0;
        boolean atEnd = h.gdOffset() == VmdkHeader.GD_AT_END;
        if (!atEnd && h.gdOffset() > 0 && h.gdOffset() < h.overHead() && tracked > 0) {
            // qemu layout: GD and GTs sit in the overhead, before the first grain; they say which grains must follow.
            qemuTable = readTables(in, h);
            for (int[] t : qemuTable) {
                for (int e : t == null ? new int[0] : t) {
                    if (e != 0 && e != 1) {
                        promised++;
                    }
                }
            }
        }
        in.skipTo(h.overHead() * VmdkHeader.SECTOR);
        long grains = 0;
        long tableEntries = 0;
        boolean eos = false;
        boolean footer = false;
        byte[] first = new byte[VmdkHeader.SECTOR];
        int maxCompressed = (int) (grainBytes + (grainBytes >> 3) + 1024);
        while (true) {
            long at = in.position();
            int n = in.readUpTo(first, 0, VmdkHeader.SECTOR);
            if (n == 0) {
                break;
            }
            if (n < VmdkHeader.SECTOR) {
                throw corrupt(in, at, "truncated marker: " + n + " of 512 bytes");
            }
            ByteBuffer m = ByteBuffer.wrap(first).order(ByteOrder.LITTLE_ENDIAN);
            long val = m.getLong(0);
            int size = m.getInt(8);
            if (size == 0) {
                int type = m.getInt(12);
                if (type == MARKER_EOS) {
                    eos = true;
                    break;
                }
                // Each metadata kind has one possible size: check it before allocating anything.
                long allowed = type == MARKER_GT ? (h.numGTEsPerGT() * 4L + VmdkHeader.SECTOR - 1) / VmdkHeader.SECTOR
                        : type == MARKER_GD ? (h.tables() * 4 + VmdkHeader.SECTOR - 1) / VmdkHeader.SECTOR
                        : type == MARKER_FOOTER ? 1 : -1;
                if (allowed < 0) {
                    throw corrupt(in, at, "unknown metadata marker type " + type);
                }
                // a writer may round the grain directory up (to a grain, say): allow a little slack there only
                long slack = type == MARKER_GD ? 256 : 0;
                if (val < allowed || val > allowed + slack) {
                    throw corrupt(in, at, "metadata marker of type " + type + " claims " + val + " sectors, not " + allowed);
                }
                byte[] meta = new byte[(int) (val * VmdkHeader.SECTOR)];
                in.readFully(meta, 0, meta.length);
                if (type == MARKER_GT) {
                    ByteBuffer gt = ByteBuffer.wrap(meta).order(ByteOrder.LITTLE_ENDIAN);
                    for (int i = 0; i + 4 <= meta.length && i / 4 < h.numGTEsPerGT(); i += 4) {
                        int e = gt.getInt(i);
                        if (e != 0 && e != 1) {
                            if (Integer.toUnsignedLong(e) * VmdkHeader.SECTOR >= at) {
                                throw corrupt(in, at, "grain table entry points at sector " + Integer.toUnsignedLong(e) + ", after the table");
                            }
                            tableEntries++;
                        }
                    }
                } else if (type == MARKER_FOOTER) {
                    VmdkHeader.parse(java.util.Arrays.copyOf(meta, VmdkHeader.SECTOR), in.source() + " footer");
                    footer = true;
                }
                continue;
            }
            if (size < 0 || size > maxCompressed) {
                throw corrupt(in, at, "grain marker claims " + Integer.toUnsignedLong(size) + " compressed bytes for a " + grainBytes + "-byte grain");
            }
            if (val < 0 || val % h.grainSize() != 0 || val * VmdkHeader.SECTOR >= capacity) {
                throw corrupt(in, at, "grain at LBA " + val + " is not grain-aligned or lies beyond the capacity of " + h.capacity() + " sectors");
            }
            long index = val / h.grainSize();
            if (seen != null) {
                if (seen.get((int) index)) {
                    throw corrupt(in, at, "grain at LBA " + val + " appears twice");
                }
                seen.set((int) index);
            }
            int[] gtOf = qemuTable == null ? null : qemuTable[(int) (index / h.numGTEsPerGT())];
            if (qemuTable != null && (gtOf == null || Integer.toUnsignedLong(gtOf[(int) (index % h.numGTEsPerGT())]) * VmdkHeader.SECTOR != at)) {
                throw corrupt(in, at, "grain at LBA " + val + " is not where the grain table puts it");
            }
            int total = (int) ((12L + size + VmdkHeader.SECTOR - 1) / VmdkHeader.SECTOR * VmdkHeader.SECTOR);
            byte[] data = new byte[total];
            System.arraycopy(first, 0, data, 0, VmdkHeader.SECTOR);
            in.readFully(data, VmdkHeader.SECTOR, total - VmdkHeader.SECTOR);
            long offset = val * VmdkHeader.SECTOR;
            int expected = (int) Math.min(grainBytes, capacity - offset);
            String source = in.source();
            pool.submit(() -> inflate(source, at, data, size, offset, expected, (int) grainBytes, sink));
            grains++;
        }
        if (atEnd) {
            if (!eos) {
                throw corrupt(in, in.position(), "stream ends without the end-of-stream marker: truncated");
            }
            if (!footer) {
                throw corrupt(in, in.position(), "no footer before the end-of-stream marker (the header says the grain directory is at the end)");
            }
            if (tableEntries != grains) {
                throw corrupt(in, in.position(), "grain tables list " + tableEntries + " grains, the stream holds " + grains);
            }
        } else if (qemuTable != null && grains != promised) {
            throw corrupt(in, in.position(), "stream ends after " + grains + " of the " + promised + " grains its tables list: truncated");
        }
        if (eos) {
            // qemu-img pads its file with zero sectors (the first reads as an end-of-stream marker); anything else is refused.
            long at = in.position();
            byte[] rest = new byte[1 << 16];
            int n;
            while ((n = in.readUpTo(rest, 0, rest.length)) > 0) {
                if (!RawSink.allZero(rest, 0, n)) {
                    throw corrupt(in, at, "data after the end-of-stream marker");
                }
            }
        }
        return grains;
    }

    private static void inflate(String source, long at, byte[] data, int size, long offset, int expected, int grainBytes, RawSink sink)
            throws IOException {
        Inflater inf = new Inflater();
        try {
            inf.setInput(data, 12, size);
            byte[] out = new byte[grainBytes];
            int n = 0;
            while (n < out.length && !inf.finished()) {
                int k = inf.inflate(out, n, out.length - n);
                if (k == 0 && (inf.needsInput() || inf.needsDictionary())) {
                    throw new OvfException(OvfException.Kind.CORRUPT_DISK, source + ": grain at byte " + at + " (disk offset " + offset
                            + ") ends before its zlib stream does");
                }
                n += k;
            }
            if (!inf.finished()) {
                throw new OvfException(OvfException.Kind.CORRUPT_DISK, source + ": grain at byte " + at + " inflates to more than "
                        + grainBytes + " bytes");
            }
            if (n != grainBytes && n != expected) {
                throw new OvfException(OvfException.Kind.CORRUPT_DISK, source + ": grain at byte " + at + " inflates to " + n
                        + " bytes, expected " + expected);
            }
            sink.write(offset, out, Math.min(n, expected));
        } catch (DataFormatException e) {
            throw new OvfException(OvfException.Kind.CORRUPT_DISK, source + ": corrupt zlib data in the grain at byte " + at
                    + " (disk offset " + offset + "): " + e.getMessage());
        } finally {
            inf.end();
        }
    }

    /**
     * Reads GD and GTs from the overhead (qemu layout). Returns the grain tables by table index, each
     * allocated only when its bytes were really read (a GD entry of 0 leaves null).
     */
    private static int[][] readTables(StreamInput in, VmdkHeader h) throws IOException {
        in.skipTo(h.gdOffset() * VmdkHeader.SECTOR);
        int tables = (int) h.tables();
        byte[] gd = new byte[tables * 4];
        in.readFully(gd, 0, gd.length);
        ByteBuffer g = ByteBuffer.wrap(gd).order(ByteOrder.LITTLE_ENDIAN);
        List<long[]> order = new ArrayList<>();
        for (int t = 0; t < tables; t++) {
            long s = Integer.toUnsignedLong(g.getInt(t * 4));
            if (s != 0) {
                order.add(new long[] {s, t});
            }
        }
        order.sort((a, b) -> Long.compare(a[0], b[0]));
        int[][] out = new int[tables][];
        byte[] gt = new byte[h.numGTEsPerGT() * 4];
        for (long[] o : order) {
            if (o[0] * VmdkHeader.SECTOR + gt.length > h.overHead() * VmdkHeader.SECTOR) {
                throw corrupt(in, o[0] * VmdkHeader.SECTOR, "grain table " + o[1] + " lies outside the overhead");
            }
            in.skipTo(o[0] * VmdkHeader.SECTOR);
            in.readFully(gt, 0, gt.length);
            ByteBuffer b = ByteBuffer.wrap(gt).order(ByteOrder.LITTLE_ENDIAN);
            int[] entries = new int[h.numGTEsPerGT()];
            for (int i = 0; i < entries.length; i++) {
                entries[i] = o[1] * h.numGTEsPerGT() + i < h.grains() ? b.getInt(i * 4) : 0;
            }
            out[(int) o[1]] = entries;
        }
        return out;
    }

    /** monolithicSparse: tables first, then uncompressed grains in file order. */
    private static long sparse(StreamInput in, VmdkHeader h, RawSink sink, GrainPool pool) throws IOException, InterruptedException {
        if (h.compressed()) {
            throw new OvfException(OvfException.Kind.UNSUPPORTED, in.source() + ": compressed sparse VMDK without markers");
        }
        if (h.gdOffset() <= 0 || h.grains() > MAX_TRACKED_GRAINS) {
            throw new OvfException(OvfException.Kind.UNSUPPORTED, in.source() + ": sparse VMDK without a usable grain directory");
        }
        long gdByte = h.gdOffset() * VmdkHeader.SECTOR;
        in.skipTo(gdByte);
        int tables = (int) h.tables();
        byte[] gd = new byte[tables * 4];
        in.readFully(gd, 0, gd.length);
        ByteBuffer g = ByteBuffer.wrap(gd).order(ByteOrder.LITTLE_ENDIAN);
        List<long[]> gts = new ArrayList<>();
        for (int t = 0; t < tables; t++) {
            long s = Integer.toUnsignedLong(g.getInt(t * 4));
            if (s != 0) {
                gts.add(new long[] {s, t});
            }
        }
        gts.sort((a, b) -> Long.compare(a[0], b[0]));
        // (sector << 26 | grain index), sorted: the grains in file order, 8 bytes each, bounded
        long[] grains = new long[1024];
        int count = 0;
        byte[] gt = new byte[h.numGTEsPerGT() * 4];
        for (long[] t : gts) {
            in.skipTo(t[0] * VmdkHeader.SECTOR);
            in.readFully(gt, 0, gt.length);
            ByteBuffer b = ByteBuffer.wrap(gt).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < h.numGTEsPerGT(); i++) {
                long s = Integer.toUnsignedLong(b.getInt(i * 4));
                long index = t[1] * h.numGTEsPerGT() + i;
                if (s > 1 && index < h.grains()) {
                    if (count == MAX_SPARSE_GRAINS) {
                        throw new OvfException(OvfException.Kind.TOO_LARGE, in.source() + ": more than " + MAX_SPARSE_GRAINS
                                + " allocated grains in a monolithicSparse VMDK");
                    }
                    if (count == grains.length) {
                        grains = java.util.Arrays.copyOf(grains, grains.length * 2);
                    }
                    grains[count++] = s << 26 | index;
                }
            }
        }
        java.util.Arrays.sort(grains, 0, count);
        int grainBytes = (int) h.grainBytes();
        for (int k = 0; k < count; k++) {
            long at = (grains[k] >>> 26) * VmdkHeader.SECTOR;
            long index = grains[k] & ((1L << 26) - 1);
            in.skipTo(at);
            byte[] data = new byte[grainBytes];
            in.readFully(data, 0, grainBytes);
            long offset = index * grainBytes;
            int len = (int) Math.min(grainBytes, h.capacityBytes() - offset);
            pool.submit(() -> sink.write(offset, data, len));
        }
        in.drain();
        return count;
    }
}
