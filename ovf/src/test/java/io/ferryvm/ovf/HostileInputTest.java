package io.ferryvm.ovf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.VmSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Hostile packages: each is refused with an error naming the fault, and the import leaves nothing behind. */
class HostileInputTest {
    @TempDir
    Path dir;
    Path out;
    Path work;
    VmSpec vm;
    List<Packages.Member> good;

    @BeforeEach
    void setUp() throws Exception {
        work = Files.createDirectory(dir.resolve("work"));
        out = Files.createDirectory(dir.resolve("out"));
        vm = Packages.vm(work, "victim");
        Path folder = work.resolve("pkg");
        new OvfExporter(new OvfExporter.Options(OvfVersion.V2, OvfExporter.Target.FERRY, null, false, null, List.of()), OvfImporter.Progress.NONE)
                .export(List.of(vm), folder);
        good = new ArrayList<>();
        for (String n : List.of("pkg.ovf", "pkg.mf", "victim-root.vmdk", "victim-data.vmdk", "victim-cd.iso")) {
            good.add(Packages.Member.file(n, Files.readAllBytes(folder.resolve(n))));
        }
    }

    private OvfException refused(byte[] ova, OvfException.Kind kind, String... parts) throws IOException {
        return refused(ova, OvfImporter.Options.DEFAULT, kind, parts);
    }

    private OvfException refused(byte[] ova, OvfImporter.Options opts, OvfException.Kind kind, String... parts) throws IOException {
        Path src = work.resolve("hostile.ova");
        Files.write(src, ova);
        Path target = out.resolve("imported");
        OvfException e = assertThrows(OvfException.class, () -> new OvfImporter(opts, OvfImporter.Progress.NONE).importPackage(src.toString(), target));
        assertEquals(kind, e.kind(), e.getMessage());
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), () -> "expected '" + p + "' in: " + e.getMessage());
        }
        assertFalse(Files.exists(target), "nothing is created");
        assertEquals(List.of(""), Packages.listing(out), "no staging left behind");
        return e;
    }

    private List<Packages.Member> with(int index, Packages.Member m) {
        List<Packages.Member> l = new ArrayList<>(good);
        l.set(index, m);
        return l;
    }

    private static String descriptor(List<Packages.Member> ms) {
        return new String(ms.get(0).data(), StandardCharsets.UTF_8);
    }

    /** Re-creates the manifest for changed members, so that only the intended fault remains. */
    private static List<Packages.Member> remanifest(List<Packages.Member> ms) {
        List<Manifest.Entry> entries = new ArrayList<>();
        for (Packages.Member m : ms) {
            if (!m.name().endsWith(".mf") && m.link() == null) {
                entries.add(new Manifest.Entry(Digest.SHA256, m.name(), Digest.hex(Digest.SHA256.newDigest().digest(m.data())), 0));
            }
        }
        List<Packages.Member> l = new ArrayList<>(ms);
        l.set(1, Packages.Member.file("pkg.mf", new Manifest(entries, List.of()).toBytes()));
        return l;
    }

    @Test
    void theGoodPackageImports() throws Exception {
        Path src = work.resolve("good.ova");
        Files.write(src, Packages.tar(good));
        OvfImporter.Result r = new OvfImporter(OvfImporter.Options.DEFAULT, OvfImporter.Progress.NONE).importPackage(src.toString(), out.resolve("ok"));
        assertEquals(1, r.vms().size());
    }

    @Test
    void xxeIsRefused() throws Exception {
        String xxe = "<?xml version=\"1.0\"?>\n<!DOCTYPE e [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
                + "<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\"><References/><VirtualSystem>&x;</VirtualSystem></Envelope>";
        refused(Packages.tar(with(0, Packages.Member.file("pkg.ovf", xxe.getBytes(StandardCharsets.UTF_8)))), OvfException.Kind.MALFORMED,
                "pkg.ovf:2:", "DOCTYPE declarations are refused");
    }

    @Test
    void entityExpansionIsRefused() throws Exception {
        StringBuilder b = new StringBuilder("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">");
        for (int i = 1; i < 10; i++) {
            b.append("<!ENTITY lol").append(i).append(" \"").append(("&lol" + (i == 1 ? "" : i - 1) + ";").repeat(10)).append("\">");
        }
        b.append("]><Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\">&lol9;</Envelope>");
        refused(Packages.tar(with(0, Packages.Member.file("pkg.ovf", b.toString().getBytes(StandardCharsets.UTF_8)))), OvfException.Kind.MALFORMED,
                "DOCTYPE declarations are refused");
    }

    @Test
    void absurdNestingIsRefused() throws Exception {
        String deep = "<Envelope xmlns=\"http://schemas.dmtf.org/ovf/envelope/1\">" + "<a>".repeat(500) + "</a>".repeat(500) + "</Envelope>";
        refused(Packages.tar(with(0, Packages.Member.file("pkg.ovf", deep.getBytes(StandardCharsets.UTF_8)))), OvfException.Kind.MALFORMED,
                "nested deeper than 64 levels");
    }

    @Test
    void aDescriptorOverTheLimitIsRefusedBeforeItIsRead() throws Exception {
        OvfImporter.Options small = OvfImporter.Options.DEFAULT.withLimits(Limits.DEFAULT.withMaxDescriptorBytes(1024));
        refused(Packages.tar(good), small, OvfException.Kind.TOO_LARGE, "pkg.ovf", "exceeds the limit of 1024 bytes");
    }

    @ParameterizedTest
    @ValueSource(strings = {"../evil.vmdk", "/etc/evil.vmdk", "a/../../evil", "C:/evil"})
    void escapingMemberNamesAreRefused(String name) throws Exception {
        List<Packages.Member> l = new ArrayList<>(good);
        l.add(2, Packages.Member.file(name, new byte[10]));
        refused(Packages.tar(l), OvfException.Kind.UNSAFE_ARCHIVE, "member '" + name + "'", "refused");
    }

    @Test
    void linksAreRefused() throws Exception {
        List<Packages.Member> l = new ArrayList<>(good);
        l.add(2, new Packages.Member("victim-root.vmdk", null, "/etc/shadow", TarArchiveEntry.LF_SYMLINK));
        refused(Packages.tar(l), OvfException.Kind.UNSAFE_ARCHIVE, "symbolic link to '/etc/shadow'");
        List<Packages.Member> h = new ArrayList<>(good);
        h.add(2, new Packages.Member("hard", null, "pkg.ovf", TarArchiveEntry.LF_LINK));
        refused(Packages.tar(h), OvfException.Kind.UNSAFE_ARCHIVE, "hard link");
    }

    @Test
    void aDescriptorThatIsNotFirstIsRefused() throws Exception {
        List<Packages.Member> l = new ArrayList<>(good);
        l.add(0, l.remove(2));
        refused(Packages.tar(l), OvfException.Kind.UNSAFE_ARCHIVE, "the first member is 'victim-root.vmdk', not the .ovf descriptor");
    }

    @Test
    void aDeclaredSizeFarBeyondTheDataIsRefused() throws Exception {
        String d = descriptor(good);
        String huge = d.replaceFirst("ovf:size=\"\\d+\"", "ovf:size=\"10995116277760\"");
        assertTrue(!huge.equals(d));
        refused(Packages.tar(remanifest(with(0, Packages.Member.file("pkg.ovf", huge.getBytes(StandardCharsets.UTF_8))))), OvfException.Kind.INTEGRITY,
                "declares ovf:size 10995116277760 bytes, the package holds");
    }

    @ParameterizedTest
    @ValueSource(ints = {100, 700, 3000, 20_000, 400_000, 1_000_000, -2048, -512, -1})
    void aTruncatedArchiveIsRefused(int at) throws Exception {
        byte[] whole = Packages.tar(good);
        // negative: that many bytes before the end of the last member's data (tar end blocks excluded)
        int lastEnd = whole.length - 1024 - (512 - good.get(4).data().length % 512) % 512;
        int cut = at >= 0 ? at : lastEnd + at;
        assertTrue(cut < whole.length, cut + " < " + whole.length);
        OvfException e = assertThrows(OvfException.class, () -> {
            Path src = work.resolve("cut.ova");
            Files.write(src, Arrays.copyOf(whole, cut));
            new OvfImporter(OvfImporter.Options.DEFAULT, OvfImporter.Progress.NONE).importPackage(src.toString(), out.resolve("imported"));
        });
        assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("missing") || e.getMessage().contains("Truncated")
                || e.getMessage().contains("corrupt"), e.getMessage());
        assertEquals(List.of(""), Packages.listing(out));
    }

    @Test
    void aTruncatedVmdkIsRefused() throws Exception {
        byte[] vmdk = good.get(2).data();
        byte[] cut = Arrays.copyOf(vmdk, vmdk.length / 2 / 512 * 512);
        String d = descriptor(good).replace("ovf:size=\"" + vmdk.length + "\"", "ovf:size=\"" + cut.length + "\"");
        List<Packages.Member> l = with(2, Packages.Member.file("victim-root.vmdk", cut));
        l.set(0, Packages.Member.file("pkg.ovf", d.getBytes(StandardCharsets.UTF_8)));
        refused(Packages.tar(remanifest(l)), OvfException.Kind.CORRUPT_DISK, "victim-root.vmdk", "truncated");
    }

    @Test
    void aCorruptGrainIsRefused() throws Exception {
        byte[] vmdk = good.get(2).data().clone();
        vmdk[128 * 512 + 12 + 40] ^= 0x5a; // inside the first grain's zlib data
        refused(Packages.tar(remanifest(with(2, Packages.Member.file("victim-root.vmdk", vmdk)))), OvfException.Kind.CORRUPT_DISK,
                "victim-root.vmdk", "grain at byte 65536");
    }

    @Test
    void aManifestMismatchIsRefused() throws Exception {
        byte[] iso = good.get(4).data().clone();
        iso[1000] ^= 1;
        refused(Packages.tar(with(4, Packages.Member.file("victim-cd.iso", iso))), OvfException.Kind.INTEGRITY,
                "pkg.mf:4: SHA256 of 'victim-cd.iso' is", "the manifest says");
    }

    @Test
    void aGzipBombIsBoundedByTheCapacity() throws Exception {
        byte[] bomb = Packages.gzip(new byte[64 << 20]);
        String d = descriptor(good);
        Envelope e = EnvelopeReader.read(d.getBytes(StandardCharsets.UTF_8), "pkg.ovf").envelope();
        List<FileRef> refs = new ArrayList<>(e.references());
        FileRef cd = refs.get(2);
        refs.set(2, new FileRef(cd.id(), cd.href(), bomb.length, "gzip", 0, cd.x()));
        Envelope changed = new Envelope(e.version(), e.versionAttribute(), e.lang(), refs, e.sections(), e.content(), e.strings(), e.namespaces(), e.x());
        List<Packages.Member> l = with(4, Packages.Member.file("victim-cd.iso", bomb));
        l.set(0, Packages.Member.file("pkg.ovf", EnvelopeWriter.write(changed)));
        OvfImporter.Options capped = OvfImporter.Options.DEFAULT.withLimits(new Limits(8 << 20, 64, 100_000, 1 << 20, 100, 16L << 20));
        refused(Packages.tar(remanifest(l)), capped, OvfException.Kind.TOO_LARGE, "victim-cd.iso", "more than 16777216 bytes");
    }

    @Test
    void aBadSignatureOrAnUntrustedSignerIsRefused() throws Exception {
        Packages.Signer s = Packages.signer("signer");
        byte[] mf = good.get(1).data();
        byte[] cert = Signing.sign(mf, "pkg.mf", s.keys().getPrivate(), List.of(s.cert()), Digest.SHA256);
        String text = new String(cert, StandardCharsets.US_ASCII);
        int eq = text.indexOf("= ") + 2;
        char c = text.charAt(eq);
        String forged = text.substring(0, eq) + (c == '0' ? '1' : '0') + text.substring(eq + 1);
        List<Packages.Member> l = new ArrayList<>(good);
        l.add(2, Packages.Member.file("pkg.cert", forged.getBytes(StandardCharsets.US_ASCII)));
        refused(Packages.tar(l), OvfException.Kind.INTEGRITY, "pkg.cert:1: the signature of pkg.mf does not match its content");
        List<Packages.Member> t = new ArrayList<>(good);
        t.add(Packages.Member.file("pkg.cert", cert));
        Packages.Signer other = Packages.signer("someone else");
        refused(Packages.tar(t), OvfImporter.Options.DEFAULT.withTrust(List.of(other.cert())), OvfException.Kind.INTEGRITY,
                "signer CN=signer is not trusted");
        refused(Packages.tar(good), OvfImporter.Options.DEFAULT.requiring(true, true), OvfException.Kind.INTEGRITY, "not signed");
    }

    @Test
    void anExistingTargetIsNeverTouched() throws Exception {
        Path src = work.resolve("good.ova");
        Files.write(src, Packages.tar(good));
        Path existing = Files.createDirectory(out.resolve("existing"));
        Files.writeString(existing.resolve("keep.txt"), "mine");
        OvfException e = assertThrows(OvfException.class,
                () -> new OvfImporter(OvfImporter.Options.DEFAULT, OvfImporter.Progress.NONE).importPackage(src.toString(), existing));
        assertTrue(e.getMessage().contains("already exists"), e.getMessage());
        assertEquals(List.of("", "existing", "existing/keep.txt"), Packages.listing(out));
        assertEquals("mine", Files.readString(existing.resolve("keep.txt")));
    }
}
