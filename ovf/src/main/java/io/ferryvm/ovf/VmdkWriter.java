package io.ferryvm.ovf;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.Deflater;

/**
 * Writes a raw image as a VMDK 3 streamOptimized extent, the way ESXi and ovftool want it.
 *
 * <pre>
 * sector 0        header (gdOffset = GD_AT_END, flags = newline test | compressed | markers)
 * 1..20           embedded descriptor (createType="streamOptimized")
 * 128..           grain markers [lba u64][size u32][zlib data] padded to 512, LBA order, zero grains omitted
 *                 after each run of 512 grains that has data: GT marker + grain table (4 sectors)
 * end - ...       GD marker + grain directory, footer marker + footer (header with the real gdOffset), EOS
 * </pre>
 * Grains are compressed on all cores; their order in the file is the order of the source.
 */
final class VmdkWriter {
    static final long GRAIN_SECTORS = 128;
    static final long OVERHEAD_SECTORS = 128;
    static final long DESCRIPTOR_SECTORS = 20;
    private static final int GRAIN = (int) (GRAIN_SECTORS * VmdkHeader.SECTOR);

    /** What was written: the VMDK's size, the grains holding data, and the capacity. */
    record Result(long vmdkBytes, long grains, long capacityBytes) {}

    private final Counting o;
    private final int[] gd;
    private final int[] gt = new int[512];
    private long group = -1;
    private boolean groupUsed;

    private VmdkWriter(Counting o, int tables) {
        this.o = o;
        this.gd = new int[tables];
    }

    /**
     * Reads capacity bytes of raw data (shorter input reads as zeros; capacity is rounded up to a sector) and
     * writes the VMDK to out.
     */
    static Result write(InputStream raw, long capacity, String extentName, OutputStream out, int threads, int level)
            throws IOException {
        long sectors = (capacity + VmdkHeader.SECTOR - 1) / VmdkHeader.SECTOR;
        int flags = VmdkHeader.FLAG_NEWLINE_TEST | VmdkHeader.FLAG_COMPRESSED | VmdkHeader.FLAG_MARKERS;
        VmdkHeader h = new VmdkHeader(3, flags, sectors, GRAIN_SECTORS, 1, DESCRIPTOR_SECTORS, 512, 0, VmdkHeader.GD_AT_END,
                OVERHEAD_SECTORS, VmdkHeader.COMPRESSION_DEFLATE);
        VmdkWriter w = new VmdkWriter(new Counting(out), (int) h.tables());
        return w.run(raw, h, extentName, threads, level);
    }

    private Result run(InputStream raw, VmdkHeader h, String extentName, int threads, int level) throws IOException {
        o.write(h.encode());
        byte[] desc = descriptor(h.capacity(), extentName).getBytes(StandardCharsets.US_ASCII);
        o.write(desc);
        o.pad(OVERHEAD_SECTORS * VmdkHeader.SECTOR);
        long grains = h.grains();
        long written = 0;
        long capBytes = h.capacityBytes();
        try (GrainPool pool = new GrainPool(threads)) {
            Deque<Pending> pending = new ArrayDeque<>();
            boolean eof = false;
            for (long gi = 0; gi < grains; gi++) {
                byte[] buf = new byte[GRAIN];
                int want = (int) Math.min(GRAIN, capBytes - gi * GRAIN);
                int n = eof ? 0 : readUpTo(raw, buf, want);
                eof = n < want;
                if (!RawSink.allZero(buf, 0, n)) {
                    pending.add(new Pending(gi, gi * GRAIN_SECTORS, pool.call(() -> compress(buf, level))));
                }
                // Emit finished grains in order; a short queue keeps memory bounded.
                while (pending.size() >= threads * 4 || !pending.isEmpty() && pending.peek().future.isDone()) {
                    emit(pending.poll(), pool);
                    written++;
                }
            }
            while (!pending.isEmpty()) {
                emit(pending.poll(), pool);
                written++;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OvfException(OvfException.Kind.IO, "interrupted while writing " + extentName, e);
        }
        if (groupUsed) {
            writeTable();
        }
        long gdSectors = (gd.length * 4L + VmdkHeader.SECTOR - 1) / VmdkHeader.SECTOR;
        marker(gdSectors, 2);
        long gdAt = o.count() / VmdkHeader.SECTOR;
        ByteBuffer g = ByteBuffer.allocate((int) (gdSectors * VmdkHeader.SECTOR)).order(ByteOrder.LITTLE_ENDIAN);
        for (int e : gd) {
            g.putInt(e);
        }
        o.write(g.array());
        marker(1, 3);
        o.write(h.withGdOffset(gdAt).encode());
        o.write(new byte[VmdkHeader.SECTOR]); // end-of-stream marker: all zero
        o.flush();
        return new Result(o.count(), written, capBytes);
    }

    private record Pending(long index, long lba, Future<byte[]> future) {}

    private void emit(Pending p, GrainPool pool) throws IOException, InterruptedException {
        byte[] z = GrainPool.get(p.future);
        pool.done();
        long g = p.index / 512;
        if (g != group) {
            if (groupUsed) {
                writeTable();
            }
            java.util.Arrays.fill(gt, 0);
            group = g;
            groupUsed = false;
        }
        gt[(int) (p.index % 512)] = sectorOf(o.count());
        groupUsed = true;
        ByteBuffer m = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        m.putLong(p.lba).putInt(z.length);
        o.write(m.array());
        o.write(z);
        o.pad((o.count() + VmdkHeader.SECTOR - 1) / VmdkHeader.SECTOR * VmdkHeader.SECTOR);
    }

    private void writeTable() throws IOException {
        marker(4, 1);
        gd[(int) group] = sectorOf(o.count());
        ByteBuffer b = ByteBuffer.allocate(2048).order(ByteOrder.LITTLE_ENDIAN);
        for (int e : gt) {
            b.putInt(e);
        }
        o.write(b.array());
    }

    private void marker(long val, int type) throws IOException {
        ByteBuffer m = ByteBuffer.allocate(VmdkHeader.SECTOR).order(ByteOrder.LITTLE_ENDIAN);
        m.putLong(val).putInt(0).putInt(type);
        o.write(m.array());
    }

    private static int sectorOf(long byteOffset) {
        long s = byteOffset / VmdkHeader.SECTOR;
        if (s > 0xffffffffL) {
            throw new OvfException(OvfException.Kind.TOO_LARGE, "VMDK grows beyond 2 TiB of compressed data: sector offsets overflow");
        }
        return (int) s;
    }

    static byte[] compress(byte[] grain, int level) {
        Deflater d = new Deflater(level);
        try {
            d.setInput(grain);
            d.finish();
            byte[] out = new byte[grain.length + 1024];
            int n = 0;
            while (!d.finished()) {
                if (n == out.length) {
                    out = java.util.Arrays.copyOf(out, out.length * 2);
                }
                n += d.deflate(out, n, out.length - n);
            }
            return java.util.Arrays.copyOf(out, n);
        } finally {
            d.end();
        }
    }

    private static int readUpTo(InputStream in, byte[] b, int len) throws IOException {
        int done = 0;
        while (done < len) {
            int n = in.read(b, done, len - done);
            if (n < 0) {
                break;
            }
            done += n;
        }
        return done;
    }

    static String descriptor(long sectors, String extent) {
        long cylinders = Math.min(65535, Math.max(1, sectors / (255 * 63)));
        String cid = String.format(Locale.ROOT, "%08x", ThreadLocalRandom.current().nextInt());
        return "# Disk DescriptorFile\n"
                + "version=1\n"
                + "encoding=\"UTF-8\"\n"
                + "CID=" + cid + "\n"
                + "parentCID=ffffffff\n"
                + "createType=\"streamOptimized\"\n"
                + "\n"
                + "# Extent description\n"
                + "RW " + sectors + " SPARSE \"" + extent.replace("\"", "") + "\"\n"
                + "\n"
                + "# The Disk Data Base\n"
                + "#DDB\n"
                + "\n"
                + "ddb.adapterType = \"lsilogic\"\n"
                + "ddb.geometry.cylinders = \"" + cylinders + "\"\n"
                + "ddb.geometry.heads = \"255\"\n"
                + "ddb.geometry.sectors = \"63\"\n"
                + "ddb.longContentID = \"" + cid + cid + cid + cid + "\"\n"
                + "ddb.virtualHWVersion = \"4\"\n";
    }

    /** An output stream that counts bytes and pads with zeros to an offset. */
    private static final class Counting {
        private final OutputStream out;
        private long count;

        Counting(OutputStream out) {
            this.out = out;
        }

        void write(byte[] b) throws IOException {
            out.write(b);
            count += b.length;
        }

        void pad(long to) throws IOException {
            if (to > count) {
                out.write(new byte[(int) (to - count)]);
                count = to;
            }
        }

        long count() {
            return count;
        }

        void flush() throws IOException {
            out.flush();
        }
    }
}
