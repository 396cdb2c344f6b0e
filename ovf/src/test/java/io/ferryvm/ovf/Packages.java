package io.ferryvm.ovf;

import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.NicSpec;
import io.ferryvm.core.NumaSpec;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.guest.Workload;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Builds test VMs, packages in every layout real tools produce, and signing keys. */
final class Packages {
    /** A tar member: name and content, or a tar entry of another type (link) when link is set. */
    record Member(String name, byte[] data, String link, byte type) {
        static Member file(String name, byte[] data) {
            return new Member(name, data, null, TarArchiveEntry.LF_NORMAL);
        }
    }

    /** A signing identity. */
    record Signer(KeyPair keys, X509Certificate cert) {}

    private Packages() {}

    /** A VM with two disks of realistic content (one with an odd size), an ISO, two NICs, NUMA, HA and a workload. */
    static VmSpec vm(Path dir, String name) throws IOException {
        Path d1 = dir.resolve(name + "-root.raw");
        Path d2 = dir.resolve(name + "-data.raw");
        Path iso = dir.resolve(name + "-cd.iso");
        Tools.realisticDisk(d1, 3L << 20, 11);
        Tools.realisticDisk(d2, (1L << 20) + 512 * 3, 12);
        Tools.realisticDisk(iso, 64 << 10, 13);
        NumaSpec numa = new NumaSpec(2, List.of(), NumaSpec.MemoryMode.STRICT, NumaSpec.CpuPolicy.DEDICATED, NumaSpec.ThreadPolicy.ISOLATE, 2048, -1);
        return new VmSpec(UUID.randomUUID(), name, 4, 512L << 20, new Workload.HotSet(0, 16 << 20, 1.0, 32, 5), numa,
                List.of(new DiskSpec("root", d1.toString(), Files.size(d1), "raw", "virtio", false),
                        new DiskSpec("data", d2.toString(), Files.size(d2), "raw", "scsi", false),
                        new DiskSpec("cd", iso.toString(), Files.size(iso), "raw", "sata", true)),
                List.of(new NicSpec("nic0", "frontend", "52:54:00:12:34:56", "virtio"), new NicSpec("nic1", "backend", "", "e1000")),
                VmSpec.HaPolicy.RESTART, "ubuntu-64", Map.of());
    }

    static byte[] tar(List<Member> members) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(out, 512)) { // 512-byte records: the archive ends right after its two zero blocks
            t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Member m : members) {
                TarArchiveEntry e = m.link() == null ? new TarArchiveEntry(m.name(), true) : new TarArchiveEntry(m.name(), m.type(), true);
                if (m.link() != null) {
                    e.setLinkName(m.link());
                } else {
                    e.setSize(m.data().length);
                }
                t.putArchiveEntry(e);
                if (m.link() == null) {
                    t.write(m.data());
                }
                t.closeArchiveEntry();
            }
        }
        return out.toByteArray();
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (OutputStream g = new GZIPOutputStream(b)) {
            g.write(data);
        }
        return b.toByteArray();
    }

    static Signer signer(String cn) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        KeyPair kp = g.generateKeyPair();
        X500Name name = new X500Name("CN=" + cn);
        Date from = new Date(System.currentTimeMillis() - 86_400_000L);
        Date to = new Date(System.currentTimeMillis() + 365 * 86_400_000L);
        var b = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(System.nanoTime()), from, to, name, kp.getPublic());
        X509Certificate cert = new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withRSA").build(kp.getPrivate())));
        return new Signer(kp, cert);
    }

    /** Names of everything in a folder (to prove an import left nothing behind). */
    static List<String> listing(Path dir) throws IOException {
        List<String> out = new ArrayList<>();
        try (var s = Files.walk(dir)) {
            s.forEach(p -> out.add(dir.relativize(p).toString()));
        }
        out.sort(null);
        return out;
    }
}
