package io.ferryvm.ovf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Manifests read leniently and written strictly; DSP0004 units; href safety. */
class ManifestAndUnitsTest {
    private static final String H1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
    private static final String H256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    @Test
    void readsEverySpellingRealToolsWrite() {
        String mf = "SHA1(a.ovf)= " + H1 + "\r\n"
                + "SHA256 (b.vmdk) = " + H256.toUpperCase() + "\n"
                + "  SHA-256(c d.iso)=" + H256 + "  \n"
                + "\n"
                + "garbage line\n";
        Manifest m = Manifest.parse(mf.getBytes(StandardCharsets.UTF_8), "x.mf");
        assertEquals(3, m.entries().size());
        assertEquals(Digest.SHA1, m.entry("a.ovf").digest());
        assertEquals(H256, m.entry("b.vmdk").hex());
        assertEquals(Digest.SHA256, m.entry("c d.iso").digest());
        assertEquals(List.of("x.mf:5: not a manifest line, ignored: garbage line"), m.warnings());
        assertEquals("SHA1(a.ovf)= " + H1 + "\nSHA256(b.vmdk)= " + H256 + "\nSHA256(c d.iso)= " + H256 + "\n",
                new String(m.toBytes(), StandardCharsets.UTF_8), "written the one way ESXi accepts");
    }

    @Test
    void refusesWrongLengthsAndDuplicates() {
        OvfException e = assertThrows(OvfException.class, () -> Manifest.parse(("SHA256(a)= " + H1 + "\n").getBytes(StandardCharsets.UTF_8), "m.mf"));
        assertTrue(e.getMessage().contains("m.mf:1: SHA256 digest of a has 40 hex digits, not 64"), e.getMessage());
        OvfException d = assertThrows(OvfException.class,
                () -> Manifest.parse(("SHA1(a)= " + H1 + "\nSHA1(a)= " + H1 + "\n").getBytes(StandardCharsets.UTF_8), "m.mf"));
        assertTrue(d.getMessage().contains("m.mf:2: a is listed twice (also line 1)"), d.getMessage());
    }

    @Test
    void dsp0004Units() {
        assertEquals(1L << 30, Units.bytesPerUnit("byte * 2^30"));
        assertEquals(1L << 20, Units.bytesPerUnit("byte*1024*1024"));
        assertEquals(1L << 20, Units.bytesPerUnit("MegaBytes"));
        assertEquals(1L << 30, Units.bytesPerUnit("GigaBytes"));
        assertEquals(1_000_000L, Units.bytesPerUnit("byte * 10^6"));
        assertEquals(1, Units.bytesPerUnit(""));
        assertEquals(50L << 30, Units.bytes("50", "byte * 2^30"));
        IllegalArgumentException o = assertThrows(IllegalArgumentException.class, () -> Units.bytes("9000000000", "byte * 2^40"));
        assertTrue(o.getMessage().contains("overflows 64 bits"), o.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Units.bytesPerUnit("hertz * 10^6"));
        assertEquals("disk_gb", Units.reference("${disk_gb}"));
        assertNull(Units.reference("42"));
    }

    @Test
    void hrefsThatWouldEscapeAreNamed() {
        assertNull(PackagePaths.unsafe("disk1.vmdk"));
        assertNull(PackagePaths.unsafe("sub/disk1.vmdk"));
        assertEquals("contains '..'", PackagePaths.unsafe("../../../vmdk/dummy.vmdk"));
        assertEquals("is absolute", PackagePaths.unsafe("/etc/passwd"));
        assertEquals("is a URL, not a path inside the package", PackagePaths.unsafe("http://example.com/disk.vmdk"));
        assertEquals("a/b.vmdk", PackagePaths.normalize("./a//b.vmdk"));
    }

    @Test
    void hostResourceSpellings() {
        assertEquals(new HostRef(true, "vmdisk1"), HostRef.parse("ovf:/disk/vmdisk1"));
        assertEquals(new HostRef(true, "vmdisk1"), HostRef.parse("/disk/vmdisk1"));
        assertEquals(new HostRef(true, "vmdisk1"), HostRef.parse("ovf://disk/vmdisk1"));
        assertEquals(new HostRef(false, "file2"), HostRef.parse("ovf:/file/file2"));
        assertNull(HostRef.parse("nonexistent.vmdk"));
    }
}
