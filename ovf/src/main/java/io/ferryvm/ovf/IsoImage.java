package io.ferryvm.ovf;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A minimal ISO 9660 image with a few files in its root: what the OVF "iso" transport attaches as a CD-ROM.
 * The primary volume has ISO level 1 names (OVF_ENV.XML;1), a Joliet volume gives the same data its real
 * name (ovf-env.xml), so cloud-init, VMware Tools and Windows all find it.
 *
 * <pre>
 * sector 0..15 system area   16 primary VD   17 Joliet VD   18 terminator
 * 19/20 L/M path tables (primary)   21/22 L/M path tables (Joliet)
 * 23 root directory (primary)   24 root directory (Joliet)   25.. file data (shared)
 * </pre>
 */
final class IsoImage {
    private static final int SECTOR = 2048;

    private IsoImage() {}

    static void write(Map<String, byte[]> files, String volumeId, Path target) throws IOException {
        try (OutputStream o = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW)) {
            o.write(build(files, volumeId, ZonedDateTime.now(ZoneOffset.UTC)));
        }
    }

    static byte[] build(Map<String, byte[]> files, String volumeId, ZonedDateTime when) {
        Map<String, byte[]> sorted = new TreeMap<>(files);
        List<String> names = new ArrayList<>(sorted.keySet());
        int[] extent = new int[names.size()];
        int next = 25;
        for (int i = 0; i < names.size(); i++) {
            extent[i] = next;
            next += Math.max(1, (sorted.get(names.get(i)).length + SECTOR - 1) / SECTOR);
        }
        int total = next;
        ByteBuffer img = ByteBuffer.allocate(total * SECTOR);
        byte[] primaryRoot = directory(names, sorted, extent, 23, false, when);
        byte[] jolietRoot = directory(names, sorted, extent, 24, true, when);
        img.position(16 * SECTOR).put(volumeDescriptor(false, volumeId, total, 19, 20, 23, when));
        img.position(17 * SECTOR).put(volumeDescriptor(true, volumeId, total, 21, 22, 24, when));
        byte[] term = new byte[SECTOR];
        term[0] = (byte) 255;
        System.arraycopy("CD001".getBytes(StandardCharsets.US_ASCII), 0, term, 1, 5);
        term[6] = 1;
        img.position(18 * SECTOR).put(term);
        img.position(19 * SECTOR).put(pathTable(23, ByteOrder.LITTLE_ENDIAN));
        img.position(20 * SECTOR).put(pathTable(23, ByteOrder.BIG_ENDIAN));
        img.position(21 * SECTOR).put(pathTable(24, ByteOrder.LITTLE_ENDIAN));
        img.position(22 * SECTOR).put(pathTable(24, ByteOrder.BIG_ENDIAN));
        img.position(23 * SECTOR).put(primaryRoot);
        img.position(24 * SECTOR).put(jolietRoot);
        for (int i = 0; i < names.size(); i++) {
            img.position(extent[i] * SECTOR).put(sorted.get(names.get(i)));
        }
        return img.array();
    }

    /** An ISO level 1 name: upper case d-characters, 8.3, with ";1". */
    static String level1(String name) {
        String n = name.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9_.]", "_");
        int dot = n.lastIndexOf('.');
        String stem = (dot < 0 ? n : n.substring(0, dot)).replace(".", "_");
        String ext = dot < 0 ? "" : n.substring(dot + 1);
        stem = stem.substring(0, Math.min(8, stem.length()));
        ext = ext.substring(0, Math.min(3, ext.length()));
        return stem + "." + ext + ";1";
    }

    private static void both32(ByteBuffer b, int at, int v) {
        b.order(ByteOrder.LITTLE_ENDIAN).putInt(at, v);
        b.order(ByteOrder.BIG_ENDIAN).putInt(at + 4, v);
    }

    private static void both16(ByteBuffer b, int at, int v) {
        b.order(ByteOrder.LITTLE_ENDIAN).putShort(at, (short) v);
        b.order(ByteOrder.BIG_ENDIAN).putShort(at + 2, (short) v);
    }

    private static byte[] record(byte[] name, int extent, int length, boolean dir, ZonedDateTime t) {
        int len = 33 + name.length + (name.length % 2 == 0 ? 1 : 0);
        ByteBuffer b = ByteBuffer.allocate(len);
        b.put(0, (byte) len);
        both32(b, 2, extent);
        both32(b, 10, length);
        b.put(18, (byte) (t.getYear() - 1900)).put(19, (byte) t.getMonthValue()).put(20, (byte) t.getDayOfMonth())
                .put(21, (byte) t.getHour()).put(22, (byte) t.getMinute()).put(23, (byte) t.getSecond()).put(24, (byte) 0);
        b.put(25, (byte) (dir ? 2 : 0));
        both16(b, 28, 1);
        b.put(32, (byte) name.length);
        b.position(33);
        b.put(name);
        return b.array();
    }

    private static byte[] directory(List<String> names, Map<String, byte[]> files, int[] extent, int self, boolean joliet, ZonedDateTime t) {
        ByteBuffer b = ByteBuffer.allocate(SECTOR);
        b.put(record(new byte[] {0}, self, SECTOR, true, t));
        b.put(record(new byte[] {1}, self, SECTOR, true, t));
        for (int i = 0; i < names.size(); i++) {
            byte[] n = joliet ? names.get(i).getBytes(StandardCharsets.UTF_16BE) : level1(names.get(i)).getBytes(StandardCharsets.US_ASCII);
            byte[] r = record(n, extent[i], files.get(names.get(i)).length, false, t);
            if (b.remaining() < r.length) {
                throw new IllegalArgumentException("too many files for a one-sector root directory");
            }
            b.put(r);
        }
        return b.array();
    }

    private static byte[] pathTable(int rootExtent, ByteOrder order) {
        ByteBuffer b = ByteBuffer.allocate(10).order(order);
        b.put((byte) 1).put((byte) 0).putInt(rootExtent).putShort((short) 1).put((byte) 0).put((byte) 0);
        return b.array();
    }

    private static byte[] volumeDescriptor(boolean joliet, String volumeId, int total, int lPath, int mPath, int root, ZonedDateTime t) {
        ByteBuffer b = ByteBuffer.allocate(SECTOR);
        b.put(0, (byte) (joliet ? 2 : 1));
        b.position(1);
        b.put("CD001".getBytes(StandardCharsets.US_ASCII));
        b.put(6, (byte) 1);
        text(b, 8, 32, "LINUX", joliet);
        text(b, 40, 32, joliet ? volumeId : volumeId.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9_]", "_"), joliet);
        both32(b, 80, total);
        if (joliet) {
            b.position(88);
            b.put("%/E".getBytes(StandardCharsets.US_ASCII)); // UCS-2 level 3
        }
        both16(b, 120, 1);
        both16(b, 124, 1);
        both16(b, 128, SECTOR);
        both32(b, 132, 10);
        b.order(ByteOrder.LITTLE_ENDIAN).putInt(140, lPath);
        b.order(ByteOrder.BIG_ENDIAN).putInt(148, mPath);
        byte[] rootRecord = record(new byte[] {0}, root, SECTOR, true, t);
        b.position(156);
        b.put(rootRecord);
        for (int[] f : new int[][] {{190, 128}, {318, 128}, {446, 128}, {702, 37}, {739, 37}, {776, 37}}) {
            text(b, f[0], f[1], "", joliet);
        }
        text(b, 574, 128, "FERRY OVF ENVIRONMENT", joliet);
        String date = String.format(Locale.ROOT, "%04d%02d%02d%02d%02d%02d00", t.getYear(), t.getMonthValue(), t.getDayOfMonth(), t.getHour(),
                t.getMinute(), t.getSecond());
        for (int at : new int[] {813, 830}) {
            b.position(at);
            b.put(date.getBytes(StandardCharsets.US_ASCII));
            b.put((byte) 0);
        }
        for (int at : new int[] {847, 864}) {
            b.position(at);
            b.put("0000000000000000".getBytes(StandardCharsets.US_ASCII));
            b.put((byte) 0);
        }
        b.put(881, (byte) 1);
        return b.array();
    }

    /** A space-padded text field: ASCII for the primary volume, UCS-2 big-endian for Joliet. */
    private static void text(ByteBuffer b, int at, int len, String s, boolean joliet) {
        byte[] field = new byte[len];
        if (joliet) {
            for (int i = 0; i + 1 < len; i += 2) {
                field[i] = 0;
                field[i + 1] = ' ';
            }
            byte[] v = s.getBytes(StandardCharsets.UTF_16BE);
            System.arraycopy(v, 0, field, 0, Math.min(v.length, len - len % 2));
        } else {
            java.util.Arrays.fill(field, (byte) ' ');
            byte[] v = s.getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(v, 0, field, 0, Math.min(v.length, len));
        }
        b.position(at);
        b.put(field);
    }
}
