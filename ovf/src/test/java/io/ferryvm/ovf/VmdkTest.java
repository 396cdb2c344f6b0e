package io.ferryvm.ovf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** VMDK streamOptimized and monolithicSparse: Ferry's writer checked by qemu-img, qemu-img's files read by Ferry, corruption refused. */
class VmdkTest {
    @TempDir
    Path dir;

    private byte[] ferryVmdk(Path raw, long capacity) throws IOException {
        Path vmdk = dir.resolve("ferry-" + capacity + ".vmdk");
        Files.deleteIfExists(vmdk);
        DiskImages.rawToStreamOptimized(raw, capacity, vmdk);
        return Files.readAllBytes(vmdk);
    }

    private byte[] toRaw(byte[] vmdk, long capacity) throws IOException {
        Path out = dir.resolve("out-" + System.nanoTime() + ".raw");
        DiskImages.vmdkToRaw(new ByteArrayInputStream(vmdk), "test.vmdk", capacity, out);
        return Files.readAllBytes(out);
    }

    @ParameterizedTest
    @ValueSource(longs = {24L << 20, (24L << 20) + 4096 + 512, 64 << 10, 512})
    void ferryWritesWhatQemuImgChecksAndConvertsBack(long capacity) throws Exception {
        Tools.require("qemu-img");
        Path raw = dir.resolve("in.raw");
        Tools.realisticDisk(raw, capacity, capacity);
        Path vmdk = dir.resolve("ferry.vmdk");
        DiskImages.rawToStreamOptimized(raw, capacity, vmdk);
        Tools.Run check = Tools.qemuImg("check", vmdk.toString());
        assertEquals(0, check.exit(), check.out());
        assertTrue(check.out().contains("No errors were found"), check.out());
        Tools.Run info = Tools.qemuImg("info", "--output=json", vmdk.toString());
        assertTrue(info.out().contains("\"create-type\": \"streamOptimized\""), info.out());
        assertTrue(info.out().contains("\"compressed\": true"), info.out());
        assertTrue(info.out().contains("\"virtual-size\": " + capacity), info.out());
        Path back = dir.resolve("back.raw");
        Tools.Run conv = Tools.qemuImg("convert", "-f", "vmdk", "-O", "raw", vmdk.toString(), back.toString());
        assertEquals(0, conv.exit(), conv.out());
        assertArrayEquals(Files.readAllBytes(raw), Files.readAllBytes(back), "qemu-img reads back the identical bytes");
        assertArrayEquals(Files.readAllBytes(raw), toRaw(Files.readAllBytes(vmdk), capacity), "and so does Ferry");
        byte[] head = Arrays.copyOf(Files.readAllBytes(vmdk), 4);
        assertArrayEquals("KDMV".getBytes(java.nio.charset.StandardCharsets.US_ASCII), head);
    }

    @ParameterizedTest
    @ValueSource(strings = {"streamOptimized", "monolithicSparse"})
    void ferryReadsWhatQemuImgWrites(String subformat) throws Exception {
        Tools.require("qemu-img");
        long capacity = (32L << 20) + (64 << 10);
        Path raw = dir.resolve("in.raw");
        Tools.realisticDisk(raw, capacity, 7);
        Path vmdk = dir.resolve("qemu.vmdk");
        Tools.Run conv = Tools.qemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=" + subformat, raw.toString(), vmdk.toString());
        assertEquals(0, conv.exit(), conv.out());
        assertArrayEquals(Files.readAllBytes(raw), toRaw(Files.readAllBytes(vmdk), capacity));
    }

    @ParameterizedTest
    @ValueSource(strings = {"compat=1.1", "compat=0.10", "compat=1.1,cluster_size=4096", "compressed"})
    void ferryReadsQcow2AsQemuImgWritesIt(String options) throws Exception {
        Tools.require("qemu-img");
        long capacity = (20L << 20) + (64 << 10) + 512;
        Path raw = dir.resolve("in.raw");
        Tools.realisticDisk(raw, capacity, 21);
        Path q = dir.resolve("disk.qcow2");
        Tools.Run conv = options.equals("compressed")
                ? Tools.qemuImg("convert", "-c", "-f", "raw", "-O", "qcow2", raw.toString(), q.toString())
                : Tools.qemuImg("convert", "-f", "raw", "-O", "qcow2", "-o", options, raw.toString(), q.toString());
        assertEquals(0, conv.exit(), conv.out());
        Path out = dir.resolve("q.raw");
        DiskImages.qcow2ToRaw(Files.newInputStream(q), "disk.qcow2", capacity, out);
        assertArrayEquals(Files.readAllBytes(raw), Files.readAllBytes(out), options);
        byte[] whole = Files.readAllBytes(q);
        Path cut = dir.resolve("cut.raw");
        OvfException e = assertThrows(OvfException.class,
                () -> DiskImages.qcow2ToRaw(new ByteArrayInputStream(Arrays.copyOf(whole, whole.length - 4096)), "disk.qcow2", capacity, cut));
        assertEquals(OvfException.Kind.CORRUPT_DISK, e.kind(), e.getMessage());
    }

    @Test
    void aTruncatedStreamIsRefusedWhoeverWroteIt() throws Exception {
        Tools.require("qemu-img");
        long capacity = 8L << 20;
        Path raw = dir.resolve("in.raw");
        Tools.realisticDisk(raw, capacity, 3);
        byte[] ferry = ferryVmdk(raw, capacity);
        Path q = dir.resolve("q.vmdk");
        Tools.qemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", raw.toString(), q.toString());
        byte[] qemu = Files.readAllBytes(q);
        for (byte[] whole : new byte[][] {ferry, qemu}) {
            for (int cut : new int[] {100, 512 * 3, whole.length / 2, whole.length - 512, whole.length - 1536}) {
                // cut at sector boundaries too: a stream that stops between grains must still be caught
                int at = cut;
                OvfException e = assertThrows(OvfException.class, () -> toRaw(Arrays.copyOf(whole, at), capacity), "cut at " + at);
                assertEquals(OvfException.Kind.CORRUPT_DISK, e.kind(), e.getMessage());
            }
        }
    }

    @Test
    void aCapacityOtherThanTheDescriptorsIsRefused() throws Exception {
        Path raw = dir.resolve("in.raw");
        Tools.realisticDisk(raw, 1 << 20, 1);
        byte[] v = ferryVmdk(raw, 1 << 20);
        OvfException e = assertThrows(OvfException.class, () -> toRaw(v, 2 << 20));
        assertTrue(e.getMessage().contains("VMDK capacity 1048576 bytes differs from the descriptor's 2097152"), e.getMessage());
    }

    /** Seeded corruption: a flipped byte inside any grain's zlib data, a bad marker or LBA, never yields an image. */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
    void seededCorruptionIsRefused(long seed) throws Exception {
        long capacity = 4L << 20;
        Path raw = dir.resolve("in.raw");
        Tools.realisticDisk(raw, capacity, 100 + seed);
        byte[] v = ferryVmdk(raw, capacity);
        Random r = new Random(seed);
        ByteBuffer b = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN);
        // find the grain markers
        java.util.List<int[]> grains = new java.util.ArrayList<>();
        int pos = (int) (VmdkWriter.OVERHEAD_SECTORS * 512);
        while (pos < v.length) {
            long val = b.getLong(pos);
            int size = b.getInt(pos + 8);
            if (size == 0) {
                if (b.getInt(pos + 12) == 0) {
                    break;
                }
                pos += 512 + (int) val * 512;
                continue;
            }
            grains.add(new int[] {pos, size});
            pos += (12 + size + 511) / 512 * 512;
        }
        assertTrue(grains.size() > 10);
        int[] g = grains.get(r.nextInt(grains.size()));
        byte[] bad = v.clone();
        switch ((int) (seed % 3)) {
            case 0 -> bad[g[0] + 12 + r.nextInt(g[1])] ^= (byte) (1 + r.nextInt(255));
            case 1 -> ByteBuffer.wrap(bad).order(ByteOrder.LITTLE_ENDIAN).putLong(g[0], capacity / 512 + 128 * (1 + r.nextInt(8)));
            default -> ByteBuffer.wrap(bad).order(ByteOrder.LITTLE_ENDIAN).putInt(g[0] + 8, 1 << 30);
        }
        OvfException e = assertThrows(OvfException.class, () -> toRaw(bad, capacity));
        assertEquals(OvfException.Kind.CORRUPT_DISK, e.kind());
        assertTrue(e.getMessage().contains("test.vmdk") && e.getMessage().contains("byte"), e.getMessage());
    }

    @Test
    void sizesInMetadataAreCheckedBeforeAnythingIsAllocated() throws Exception {
        Path raw = dir.resolve("in.raw");
        Tools.realisticDisk(raw, 2 << 20, 9);
        byte[] v = ferryVmdk(raw, 2 << 20);
        ByteBuffer b = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN);
        int gdMarker = -1;
        for (int pos = v.length - 512; pos > 0; pos -= 512) {
            if (b.getInt(pos + 8) == 0 && b.getInt(pos + 12) == 2 && b.getLong(pos) > 0) {
                gdMarker = pos;
                break;
            }
        }
        assertTrue(gdMarker > 0);
        byte[] bad = v.clone();
        ByteBuffer.wrap(bad).order(ByteOrder.LITTLE_ENDIAN).putLong(gdMarker, 1L << 40);
        OvfException e = assertThrows(OvfException.class, () -> toRaw(bad, 2 << 20));
        assertTrue(e.getMessage().contains("metadata marker of type 2 claims 1099511627776 sectors"), e.getMessage());

        Tools.require("qemu-img");
        Path q = dir.resolve("d.qcow2");
        assertEquals(0, Tools.qemuImg("convert", "-f", "raw", "-O", "qcow2", raw.toString(), q.toString()).exit());
        byte[] qc = Files.readAllBytes(q);
        ByteBuffer.wrap(qc).putInt(36, Integer.MAX_VALUE); // l1_size
        OvfException l1 = assertThrows(OvfException.class,
                () -> DiskImages.qcow2ToRaw(new ByteArrayInputStream(qc), "d.qcow2", 2 << 20, dir.resolve("l1.raw")));
        assertEquals(OvfException.Kind.TOO_LARGE, l1.kind(), l1.getMessage());
    }

    @Test
    void notAVmdkAtAll() {
        OvfException e = assertThrows(OvfException.class, () -> toRaw(new byte[4096], 4096));
        assertTrue(e.getMessage().contains("not a sparse VMDK (magic 00000000 at byte 0, expected KDMV)"), e.getMessage());
    }

    @Test
    void aRawCopyMustHaveExactlyItsCapacity() throws IOException {
        Path out = dir.resolve("r.raw");
        InputStream big = new ByteArrayInputStream(new byte[8192]);
        OvfException e = assertThrows(OvfException.class, () -> DiskImages.rawCopy(big, "big.raw", 4096, out));
        assertTrue(e.getMessage().contains("more than its capacity"), e.getMessage());
        Files.deleteIfExists(out);
        OvfException t = assertThrows(OvfException.class, () -> DiskImages.rawCopy(new ByteArrayInputStream(new byte[100]), "s.raw", 4096, out));
        assertTrue(t.getMessage().contains("truncated: 100 of 4096"), t.getMessage());
    }

    @Test
    void zeroGrainsAreNotStored() throws IOException {
        Path raw = dir.resolve("zero.raw");
        Files.write(raw, new byte[4 << 20]);
        byte[] v = ferryVmdk(raw, 4 << 20);
        assertTrue(v.length < 200 * 512, "an empty disk is a header, tables and markers: " + v.length);
        ByteArrayOutputStream unused = new ByteArrayOutputStream();
        assertEquals(0, unused.size());
        assertArrayEquals(new byte[4 << 20], toRaw(v, 4 << 20));
    }
}
