package io.ferryvm.ovf;

import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.VmSpec;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Exports VMs as an OVF package: a folder (.ovf, .mf, optional .cert, disks) or an .ova archive with the
 * members in the order DSP0243 asks (descriptor, manifest, certificate, then the files in References
 * order; ustar, with pax headers for members of 8 GiB or more and for long names). Disks become VMDK 3
 * streamOptimized; read-only disks are copied as files (ISO images). OVF 2.x with a SHA-256 manifest by
 * default, 1.x with SHA-1 on request. The package appears at its path by an atomic rename, complete.
 */
public final class OvfExporter {
    /** The platform an export is for: its VirtualSystemType and the device subtypes it knows. */
    public enum Target {
        /** ESXi 5.5 and later, ovftool, Workstation. */
        VMWARE("vmx-10"),
        VIRTUALBOX("virtualbox-2.2"),
        /** Ferry itself (virtio devices kept). */
        FERRY("ferry-1");

        private final String systemType;

        Target(String systemType) {
            this.systemType = systemType;
        }

        public String systemType() {
            return systemType;
        }
    }

    /** Export settings; digest null means SHA256 for 2.x and SHA1 for 1.x; key null means unsigned. */
    public record Options(OvfVersion version, Target target, Digest digest, boolean ova, PrivateKey key, List<X509Certificate> chain) {
        public static final Options DEFAULT = new Options(OvfVersion.V2, Target.VMWARE, null, true, null, List.of());

        public Options {
            if (version == OvfVersion.V0_9) {
                throw new IllegalArgumentException("Ferry exports OVF 1.x or 2.x");
            }
            chain = List.copyOf(chain);
        }

        public Digest digestOrDefault() {
            return digest != null ? digest : version == OvfVersion.V2 ? Digest.SHA256 : Digest.SHA1;
        }

        public Options signedWith(PrivateKey k, List<X509Certificate> c) {
            return new Options(version, target, digest, ova, k, c);
        }
    }

    /** What an export wrote: the package path, its envelope, its files in order, its size and the time taken. */
    public record Result(Path output, Envelope envelope, List<String> members, long bytes, Duration elapsed) {
        public Result {
            members = List.copyOf(members);
        }
    }

    private final Options options;
    private final OvfImporter.Progress progress;

    public OvfExporter(Options options, OvfImporter.Progress progress) {
        this.options = options;
        this.progress = progress;
    }

    public Result export(List<VmSpec> vms, Path output) {
        if (vms.isEmpty()) {
            throw new IllegalArgumentException("nothing to export");
        }
        long t0 = System.nanoTime();
        String base = output.getFileName().toString().replaceAll("(?i)\\.(ova|ovf)$", "");
        try (Staging staging = new Staging(output)) {
            Path dir = staging.dir().resolve("package");
            Files.createDirectory(dir);
            Digest digest = options.digestOrDefault();
            List<EnvelopeBuilder.DiskFile> files = new ArrayList<>();
            List<String[]> manifest = new ArrayList<>();
            Set<String> hrefs = new HashSet<>();
            for (VmSpec vm : vms) {
                for (DiskSpec d : vm.disks()) {
                    Path src = Path.of(d.path());
                    if (!Files.isRegularFile(src)) {
                        throw new OvfException(OvfException.Kind.IO, "VM " + vm.name() + " disk " + d.name() + ": " + src + " is not a file");
                    }
                    if (Files.size(src) > d.capacityBytes()) {
                        throw new OvfException(OvfException.Kind.INVALID, "VM " + vm.name() + " disk " + d.name() + ": " + src + " holds "
                                + Files.size(src) + " bytes, more than its capacity of " + d.capacityBytes());
                    }
                    if (!d.format().equals("raw")) {
                        throw new OvfException(OvfException.Kind.UNSUPPORTED, "VM " + vm.name() + " disk " + d.name() + ": format " + d.format()
                                + " cannot be exported (raw only)");
                    }
                    String href = unique(OvfImporter.safeName(vm.name() + "-" + d.name()) + (d.readOnly() ? ".iso" : ".vmdk"), hrefs);
                    Path out = dir.resolve(href);
                    MessageDigest md = digest.newDigest();
                    long size;
                    long populated;
                    try (InputStream in = new BufferedInputStream(Files.newInputStream(src), 1 << 20);
                            DigestOutputStream o = new DigestOutputStream(new BufferedOutputStream(Files.newOutputStream(out,
                                    StandardOpenOption.CREATE_NEW), 1 << 20), md)) {
                        if (d.readOnly()) {
                            size = in.transferTo(o);
                            populated = size;
                        } else {
                            DiskImages.Converted c = DiskImages.rawToStreamOptimized(new ProgressInput(in, href, d.capacityBytes()),
                                    d.capacityBytes(), href, o);
                            size = c.sourceBytes();
                            populated = c.dataBytes();
                        }
                    }
                    files.add(new EnvelopeBuilder.DiskFile(vm.name(), d.name(), href, size, populated, d.readOnly()));
                    manifest.add(new String[] {href, Digest.hex(md.digest())});
                }
            }
            Envelope env = EnvelopeBuilder.build(vms, options.target(), options.version(), files);
            byte[] ovf = EnvelopeWriter.write(env, options.version());
            String ovfName = base + ".ovf";
            Files.write(dir.resolve(ovfName), ovf);
            List<Manifest.Entry> entries = new ArrayList<>();
            entries.add(new Manifest.Entry(digest, ovfName, Digest.hex(digest.newDigest().digest(ovf)), 0));
            for (String[] m : manifest) {
                entries.add(new Manifest.Entry(digest, m[0], m[1], 0));
            }
            byte[] mf = new Manifest(entries, List.of()).toBytes();
            String mfName = base + ".mf";
            Files.write(dir.resolve(mfName), mf);
            List<String> members = new ArrayList<>(List.of(ovfName, mfName));
            if (options.key() != null) {
                byte[] cert = Signing.sign(mf, mfName, options.key(), options.chain(), digest);
                Files.write(dir.resolve(base + ".cert"), cert);
                members.add(base + ".cert");
            }
            for (EnvelopeBuilder.DiskFile f : files) {
                members.add(f.href());
            }
            long bytes;
            if (options.ova()) {
                Path ova = staging.dir().resolve("package.ova");
                bytes = tar(dir, members, ova);
                staging.commit("package.ova");
            } else {
                bytes = 0;
                for (String m : members) {
                    bytes += Files.size(dir.resolve(m));
                }
                staging.commit("package");
            }
            return new Result(staging.target(), env, members, bytes, Duration.ofNanos(System.nanoTime() - t0));
        } catch (IOException e) {
            throw new OvfException(OvfException.Kind.IO, output + ": " + e, e);
        }
    }

    private static String unique(String name, Set<String> used) {
        String n = name;
        for (int i = 1; !used.add(n.toLowerCase(Locale.ROOT)); i++) {
            int dot = name.lastIndexOf('.');
            n = name.substring(0, dot) + "-" + i + name.substring(dot);
        }
        return n;
    }

    /**
     * A ustar writer that falls back to POSIX pax headers for what ustar cannot hold: sizes of 8 GiB and
     * more (11 octal digits) and names over 100 characters. GNU extensions are avoided (pitfall: readers
     * that mishandle them, xen-orchestra#7183).
     */
    static TarArchiveOutputStream tarStream(OutputStream out) {
        TarArchiveOutputStream t = new TarArchiveOutputStream(out);
        t.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        return t;
    }

    /** Writes the members into a tar in the given order; pax headers for big numbers and long names. */
    static long tar(Path dir, List<String> members, Path ova) throws IOException {
        try (OutputStream fo = new BufferedOutputStream(Files.newOutputStream(ova, StandardOpenOption.CREATE_NEW), 1 << 20);
                TarArchiveOutputStream t = tarStream(fo)) {
            for (String m : members) {
                Path p = dir.resolve(m);
                TarArchiveEntry e = new TarArchiveEntry(m);
                e.setSize(Files.size(p));
                e.setMode(0644);
                e.setModTime(Files.getLastModifiedTime(p).toMillis());
                t.putArchiveEntry(e);
                Files.copy(p, t);
                t.closeArchiveEntry();
            }
            t.finish();
        }
        return Files.size(ova);
    }

    /** Reports export progress of one disk. */
    private final class ProgressInput extends java.io.FilterInputStream {
        private final String what;
        private final long total;
        private long done;
        private long reported;

        ProgressInput(InputStream in, String what, long total) {
            super(in);
            this.what = what;
            this.total = total;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                done += n;
                // every MiB and at the end: the caller's renderer decides how often to draw
                if (done - reported >= 1 << 20 || done == total) {
                    reported = done;
                    progress.update(what, done, total);
                }
            }
            return n;
        }
    }
}
