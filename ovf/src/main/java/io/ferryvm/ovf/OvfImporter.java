package io.ferryvm.ovf;

import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.VmSpecJson;
import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.apache.commons.vfs2.FileObject;
import org.apache.commons.vfs2.FileSystemException;
import org.apache.commons.vfs2.FileType;
import org.apache.commons.vfs2.VFS;

/**
 * Imports an OVF package (a .ova archive, or a .ovf descriptor with its files) from any Commons VFS source
 * ({@code file:}, {@code zip:}, {@code tar:}, {@code http(s):}, or a plain path) into a new folder: the
 * descriptor, raw disks, other files, and one VmSpec JSON per VirtualSystem.
 *
 * <p>Implementation notes. An OVA is read in one pass, never extracted first: the descriptor (which must
 * come first) is parsed, validated and mapped before any disk byte is read; every member's name, type and
 * declared size are checked before it is used; disks are converted to raw while their manifest digests
 * are computed (the algorithm of a manifest read earlier, or SHA-1, SHA-256 and SHA-512 when it comes at
 * the end); chunked files are reassembled across consecutive members and gzip files inflated on the fly,
 * their output bounded by the disk's capacity. Everything is written to a staging folder beside the target
 * that is renamed to the target only after the manifest and signature checks pass; on any failure it is
 * deleted, so nothing is left behind and nothing existing is changed.
 */
public final class OvfImporter {
    /** Progress of a long copy: what is being read, bytes done, bytes in all (-1 when unknown). */
    public interface Progress {
        Progress NONE = (what, done, total) -> { };

        void update(String what, long done, long total);
    }

    /**
     * Import settings: limits, mapping options (deployment option, property values, strictness), whether a
     * manifest or signature must be present, trust anchors for signatures (none: signatures are checked but
     * the signer is reported as untrusted), and the DMTF schema folder for XSD warnings (null: no XSD check).
     */
    public record Options(Limits limits, VmSpecMapper.Options mapping, boolean requireManifest, boolean requireSignature,
            List<X509Certificate> trustAnchors, Path schemaDir) {
        public static final Options DEFAULT = new Options(Limits.DEFAULT, VmSpecMapper.Options.DEFAULT, false, false, List.of(), null);

        public Options {
            trustAnchors = List.copyOf(trustAnchors);
        }

        public Options withLimits(Limits l) {
            return new Options(l, mapping, requireManifest, requireSignature, trustAnchors, schemaDir);
        }

        public Options withMapping(VmSpecMapper.Options m) {
            return new Options(limits, m, requireManifest, requireSignature, trustAnchors, schemaDir);
        }

        public Options requiring(boolean manifest, boolean signature) {
            return new Options(limits, mapping, manifest, signature, trustAnchors, schemaDir);
        }

        public Options withTrust(List<X509Certificate> anchors) {
            return new Options(limits, mapping, requireManifest, requireSignature, anchors, schemaDir);
        }
    }

    /**
     * What an import did: the folder, the envelope, the VMs (specs as written to vms/*.json), findings and
     * warnings, the manifest check ("" when there was none), the signature (null when none), bytes read
     * from the source, bytes of disk data written, and the time it took.
     */
    public record Result(Path directory, Envelope envelope, List<VmSpecMapper.Mapped> vms, List<Finding> findings, List<String> warnings,
            String manifest, Signing.Verified signature, long sourceBytes, long diskBytes, Duration elapsed) {
        public Result {
            vms = List.copyOf(vms);
            findings = List.copyOf(findings);
            warnings = List.copyOf(warnings);
        }

        /** One greppable line. */
        public String summary() {
            double secs = Math.max(1e-9, elapsed.toNanos() / 1e9);
            return String.format(Locale.ROOT, "imported %d VM(s) to %s: read %d bytes, wrote %d bytes of disk data in %.2f s (%.1f MB/s); manifest: %s; signature: %s",
                    vms.size(), directory, sourceBytes, diskBytes, secs, sourceBytes / secs / 1e6, manifest.isEmpty() ? "none" : manifest,
                    signature == null ? "none" : (signature.trusted() ? "trusted " : "valid, untrusted ") + signature.subject());
        }
    }

    private final Options options;
    private final Progress progress;

    public OvfImporter(Options options, Progress progress) {
        this.options = options;
        this.progress = progress;
    }

    /** Imports the package at source (a VFS URI or a local path) into target, which must not exist. */
    public Result importPackage(String source, Path target) {
        long t0 = System.nanoTime();
        try (Staging staging = new Staging(target)) {
            Run run = new Run(staging, source);
            run.start();
            run.finishChecks();
            List<VmSpecMapper.Mapped> vms = run.writeVms();
            staging.commit(null);
            Result r = new Result(staging.target(), run.envelope, vms, run.findings, run.warnings, run.manifestSummary(), run.signature,
                    run.sourceBytes(), run.diskBytes, Duration.ofNanos(System.nanoTime() - t0));
            return r;
        } catch (IOException e) {
            throw new OvfException(OvfException.Kind.IO, source + ": " + e, e);
        }
    }

    /** Reads and checks the descriptor of a package without importing anything (for inspect and validate). */
    public static Loaded load(String source, Options options) {
        try {
            FileObject f = resolve(source);
            if (isOva(f)) {
                try (InputStream in = f.getContent().getInputStream();
                        TarArchiveInputStream tin = new TarArchiveInputStream(new BufferedInputStream(in, 1 << 16))) {
                    TarArchiveEntry e = nextFile(tin, f.getName().getBaseName(), options.limits(), new int[1]);
                    if (e == null || !isDescriptorName(e.getName())) {
                        throw new OvfException(OvfException.Kind.UNSAFE_ARCHIVE, f.getName().getBaseName() + ": the first member is "
                                + (e == null ? "missing" : "'" + e.getName() + "'") + ", not the .ovf descriptor (DSP0243: descriptor first)");
                    }
                    byte[] d = readSmall(tin, e.getSize(), options.limits().maxDescriptorBytes(), e.getName());
                    return new Loaded(d, PackagePaths.normalize(e.getName()));
                }
            }
            FileObject desc = descriptorOf(f);
            try (InputStream in = desc.getContent().getInputStream()) {
                long size = knownSize(desc);
                return new Loaded(readSmall(in, size, options.limits().maxDescriptorBytes(), desc.getName().getBaseName()), desc.getName().getBaseName());
            }
        } catch (IOException e) {
            throw new OvfException(OvfException.Kind.IO, source + ": " + e.getMessage(), e);
        }
    }

    /** A package's descriptor bytes and its name. */
    public record Loaded(byte[] descriptor, String name) {}

    static FileObject resolve(String source) throws FileSystemException {
        String uri = source.matches("^[A-Za-z][A-Za-z0-9+.-]+:.*") && !source.matches("^[A-Za-z]:\\\\.*") ? source
                : Path.of(source).toAbsolutePath().toUri().toString();
        FileObject f = VFS.getManager().resolveFile(uri);
        if (!f.exists()) {
            throw new OvfException(OvfException.Kind.IO, source + ": not found");
        }
        return f;
    }

    private static boolean isOva(FileObject f) throws IOException {
        if (f.getType() != FileType.FILE) {
            return false;
        }
        String n = f.getName().getBaseName().toLowerCase(Locale.ROOT);
        if (n.endsWith(".ova") || n.endsWith(".tar")) {
            return true;
        }
        if (n.endsWith(".ovf")) {
            return false;
        }
        try (InputStream in = f.getContent().getInputStream()) {
            byte[] h = in.readNBytes(262);
            return h.length == 262 && new String(h, 257, 5, java.nio.charset.StandardCharsets.US_ASCII).equals("ustar");
        }
    }

    private static FileObject descriptorOf(FileObject f) throws FileSystemException {
        if (f.getType() == FileType.FOLDER) {
            List<FileObject> ovfs = new ArrayList<>();
            for (FileObject c : f.getChildren()) {
                if (isDescriptorName(c.getName().getBaseName())) {
                    ovfs.add(c);
                }
            }
            if (ovfs.size() != 1) {
                throw new OvfException(OvfException.Kind.INVALID, f.getName() + ": " + ovfs.size() + " .ovf descriptors in the folder (need exactly one)");
            }
            return ovfs.get(0);
        }
        return f;
    }

    static boolean isDescriptorName(String n) {
        return n.toLowerCase(Locale.ROOT).endsWith(".ovf");
    }

    private static long knownSize(FileObject f) {
        try {
            return f.getContent().getSize();
        } catch (FileSystemException e) {
            return -1;
        }
    }

    static byte[] readSmall(InputStream in, long declared, int limit, String what) throws IOException {
        if (declared > limit) {
            throw new OvfException(OvfException.Kind.TOO_LARGE, what + ": " + declared + " bytes exceeds the limit of " + limit + " bytes");
        }
        byte[] b = in.readNBytes(limit + 1);
        if (b.length > limit) {
            throw new OvfException(OvfException.Kind.TOO_LARGE, what + ": more than " + limit + " bytes (the limit)");
        }
        return b;
    }

    /** The next file member, with every member checked: safe name, plain file or folder, within the member count. */
    static TarArchiveEntry nextFile(TarArchiveInputStream tin, String archive, Limits limits, int[] count) throws IOException {
        while (true) {
            TarArchiveEntry e;
            try {
                e = tin.getNextEntry();
            } catch (IOException ex) {
                throw new OvfException(OvfException.Kind.CORRUPT_DISK, archive + ": corrupt or truncated tar at byte " + tin.getBytesRead() + ": "
                        + ex.getMessage(), ex);
            }
            if (e == null) {
                return null;
            }
            if (++count[0] > limits.maxMembers()) {
                throw new OvfException(OvfException.Kind.TOO_LARGE, archive + ": more than " + limits.maxMembers() + " members");
            }
            String name = e.getName();
            String unsafe = PackagePaths.unsafe(name);
            if (unsafe != null) {
                throw new OvfException(OvfException.Kind.UNSAFE_ARCHIVE, archive + ": member '" + name + "' " + unsafe + ": refused");
            }
            if (e.isSymbolicLink() || e.isLink()) {
                throw new OvfException(OvfException.Kind.UNSAFE_ARCHIVE, archive + ": member '" + name + "' is a "
                        + (e.isSymbolicLink() ? "symbolic" : "hard") + " link to '" + e.getLinkName() + "': refused");
            }
            if (e.isDirectory()) {
                continue;
            }
            if (!e.isFile() || e.isSparse()) {
                throw new OvfException(OvfException.Kind.UNSAFE_ARCHIVE, archive + ": member '" + name + "' is not a plain file: refused");
            }
            if (e.getSize() < 0 || e.getSize() > limits.maxDiskBytes()) {
                throw new OvfException(OvfException.Kind.TOO_LARGE, archive + ": member '" + name + "' declares " + e.getSize() + " bytes");
            }
            return e;
        }
    }

    /** One import: the state shared by the OVA and the folder paths. */
    private final class Run {
        final Staging staging;
        final String source;
        final List<Finding> findings = new ArrayList<>();
        final List<String> warnings = new ArrayList<>();
        final Map<String, Map<Digest, String>> digests = new LinkedHashMap<>();
        final Map<String, FileRef> byHref = new HashMap<>();
        final Set<String> filesDone = new HashSet<>();
        final Map<String, VirtualDisk> diskByFile = new HashMap<>();
        Envelope envelope;
        String descriptorName;
        byte[] descriptor;
        Manifest manifest;
        byte[] manifestBytes;
        String manifestName;
        byte[] certBytes;
        String certName;
        Signing.Verified signature;
        List<VmSpecMapper.Mapped> mapped;
        Map<String, String> props = new HashMap<>();
        long diskBytes;
        Counting counter;
        long total = -1;

        Run(Staging staging, String source) {
            this.staging = staging;
            this.source = source;
        }

        long sourceBytes() {
            return counter == null ? 0 : counter.count;
        }

        void start() throws IOException {
            FileObject f = resolve(source);
            if (isOva(f)) {
                total = knownSize(f);
                try (InputStream in = f.getContent().getInputStream()) {
                    counter = new Counting(in);
                    String name = f.getName().getBaseName();
                    counter.onProgress = done -> progress.update(name, done, total);
                    ova(new TarArchiveInputStream(new BufferedInputStream(counter, 1 << 20)), f.getName().getBaseName());
                }
            } else {
                folder(descriptorOf(f));
            }
        }

        /** Parses, validates and maps the descriptor: all before any disk byte is read. */
        void descriptor(byte[] bytes, String name) throws IOException {
            descriptor = bytes;
            descriptorName = name;
            EnvelopeReader.Result r = EnvelopeReader.read(bytes, name, options.limits());
            envelope = r.envelope();
            findings.addAll(r.findings());
            findings.addAll(EnvelopeValidator.validate(envelope, options.limits()));
            EnvelopeValidator.requireNoErrors(findings, name);
            if (options.schemaDir() != null) {
                findings.addAll(EnvelopeValidator.validateSchema(bytes, name, envelope.version(), options.schemaDir()));
            }
            props = new HashMap<>(EnvelopeValidator.properties(envelope));
            props.putAll(options.mapping().propertyValues());
            Map<String, String> paths = new HashMap<>();
            for (FileRef fr : envelope.references()) {
                String unsafe = PackagePaths.unsafe(fr.href());
                if (unsafe != null) {
                    throw new OvfException(OvfException.Kind.UNSAFE_ARCHIVE, name + ": File " + fr.id() + " href '" + fr.href() + "' " + unsafe + ": refused");
                }
                byHref.put(PackagePaths.normalize(fr.href()), fr);
            }
            for (VirtualDisk d : envelope.disks()) {
                FileRef fr = envelope.file(d.fileRef());
                if (fr == null && !d.fileRef().isEmpty()) {
                    fr = byHref.get(PackagePaths.normalize(d.fileRef()));
                }
                if (fr != null) {
                    diskByFile.put(fr.id(), d);
                }
                paths.put(d.diskId(), staging.finalPath(diskPath(d, fr)).toString());
            }
            for (FileRef fr : envelope.references()) {
                if (!diskByFile.containsKey(fr.id())) {
                    paths.putIfAbsent(fr.id(), staging.finalPath(otherPath(fr)).toString());
                }
            }
            mapped = environments(VmSpecMapper.toVmSpecs(envelope, options.mapping().withDiskPaths(paths)));
            for (VmSpecMapper.Mapped m : mapped) {
                for (String w : m.warnings()) {
                    warnings.add(m.virtualSystemId() + ": " + w);
                }
            }
            Files.createDirectories(staging.dir().resolve("disks"));
            Files.write(staging.dir().resolve(safeName(name)), bytes);
        }

        /**
         * For a VirtualSystem whose hardware asks for the "iso" transport, the OVF environment (its properties
         * with the user's values, checked) goes on an ISO image attached as a read-only CD named ovf-env.
         * Values naming no property at all are refused here, before any disk byte is read.
         */
        private List<VmSpecMapper.Mapped> environments(List<VmSpecMapper.Mapped> vms) throws IOException {
            Map<String, String> given = options.mapping().propertyValues();
            Set<String> known = new HashSet<>();
            for (Content.VirtualSystem vs : envelope.virtualSystems()) {
                known.addAll(OvfEnvironment.keys(envelope, vs.id()));
            }
            for (String k : given.keySet()) {
                if (!known.contains(k)) {
                    throw new OvfException(OvfException.Kind.BAD_VALUE, "property " + k + " is not declared in any ProductSection of " + descriptorName);
                }
            }
            List<VmSpecMapper.Mapped> out = new ArrayList<>();
            for (VmSpecMapper.Mapped m : vms) {
                Content.VirtualSystem vs = envelope.virtualSystems().stream().filter(v -> v.id().equals(m.virtualSystemId())).findFirst().orElse(null);
                boolean iso = vs != null && vs.sectionsOf(Section.VirtualHardwareSection.class).stream().anyMatch(h -> h.transports().contains("iso"));
                if (!iso) {
                    out.add(m);
                    continue;
                }
                Set<String> mine = OvfEnvironment.keys(envelope, vs.id());
                Map<String, String> values = new LinkedHashMap<>();
                given.forEach((k, v) -> {
                    if (mine.contains(k)) {
                        values.put(k, v);
                    }
                });
                byte[] doc = OvfEnvironment.document(envelope, vs.id(), values, options.mapping().deploymentOption(), OvfEnvironment.Platform.FERRY);
                String rel = "files/" + safeName(m.spec().name()) + "-ovf-env.iso";
                Path isoPath = staging.dir().resolve(rel);
                Files.createDirectories(isoPath.getParent());
                OvfEnvironment.writeIso(doc, isoPath);
                List<DiskSpec> disks = new ArrayList<>(m.spec().disks());
                if (disks.stream().anyMatch(d -> d.name().equals("ovf-env"))) {
                    throw new OvfException(OvfException.Kind.MAPPING, m.spec().name() + ": a disk is already named ovf-env");
                }
                disks.add(new DiskSpec("ovf-env", staging.finalPath(rel).toString(), Files.size(isoPath), "raw", "sata", true));
                List<String> w = new ArrayList<>(m.warnings());
                w.add("the OVF environment (" + values.size() + " value(s) given) is attached as CD-ROM ovf-env (iso transport)");
                out.add(new VmSpecMapper.Mapped(m.virtualSystemId(), m.spec().withDevices(disks, m.spec().nics()), w, m.diskIdByName()));
            }
            return out;
        }

        private String diskPath(VirtualDisk d, FileRef fr) {
            String ext = ".raw";
            if (fr != null) {
                DiskImages.Format f = DiskImages.formatOf(d.format());
                if (f == DiskImages.Format.VHD) {
                    ext = ".vhd";
                }
            }
            return "disks/" + safeName(d.diskId()) + ext;
        }

        private String otherPath(FileRef fr) {
            return "files/" + PackagePaths.normalize(fr.href());
        }

        private Set<Digest> digestsFor(String member) {
            if (manifest != null) {
                Manifest.Entry e = manifest.entry(member);
                return e == null ? Set.of() : EnumSet.of(e.digest());
            }
            return EnumSet.allOf(Digest.class);
        }

        void ova(TarArchiveInputStream tin, String archive) throws IOException {
            int[] count = {0};
            TarArchiveEntry e = nextFile(tin, archive, options.limits(), count);
            if (e == null || !isDescriptorName(e.getName())) {
                throw new OvfException(OvfException.Kind.UNSAFE_ARCHIVE, archive + ": the first member is "
                        + (e == null ? "missing (empty archive)" : "'" + e.getName() + "'") + ", not the .ovf descriptor (DSP0243: descriptor first)");
            }
            String descName = PackagePaths.normalize(e.getName());
            HashingInputStream h = new HashingInputStream(tin, EnumSet.allOf(Digest.class));
            byte[] d = readSmall(h, e.getSize(), options.limits().maxDescriptorBytes(), archive + "!" + descName);
            digests.put(descName, h.finish());
            descriptor(d, descName);
            Set<String> seen = new HashSet<>();
            seen.add(descName);
            TarArchiveEntry pending = null;
            while (true) {
                e = pending != null ? pending : nextFile(tin, archive, options.limits(), count);
                pending = null;
                if (e == null) {
                    break;
                }
                String name = PackagePaths.normalize(e.getName());
                if (!seen.add(name)) {
                    throw new OvfException(OvfException.Kind.UNSAFE_ARCHIVE, archive + ": member '" + name + "' appears twice");
                }
                String lower = name.toLowerCase(Locale.ROOT);
                FileRef fr = byHref.get(name);
                if (fr != null && !fr.chunked()) {
                    checkDeclaredSize(fr, e.getSize(), archive + "!" + name);
                    HashingInputStream hs = new HashingInputStream(tin, digestsFor(name));
                    importFile(fr, hs, archive + "!" + name);
                    digests.put(name, hs.finish());
                    filesDone.add(fr.id());
                } else if (fr == null && chunkOf(name) != null) {
                    FileRef chunked = chunkOf(name);
                    if (!name.equals(chunked.chunkName(0))) {
                        throw new OvfException(OvfException.Kind.CORRUPT_DISK, archive + ": chunk '" + name + "' of File " + chunked.id()
                                + " comes before its chunk 0 (chunks must be consecutive, in order)");
                    }
                    TarChunks chunks = new TarChunks(tin, archive, chunked, e, count, seen);
                    importFile(chunked, chunks, archive + "!" + chunked.href() + ".*");
                    pending = chunks.finish();
                    filesDone.add(chunked.id());
                } else if (lower.endsWith(".mf") && manifestBytes == null && !name.contains("/")) {
                    manifestBytes = readSmall(tin, e.getSize(), options.limits().maxSmallFileBytes(), archive + "!" + name);
                    manifestName = name;
                    manifest = Manifest.parse(manifestBytes, name);
                    warnings.addAll(manifest.warnings());
                } else if (lower.endsWith(".cert") && certBytes == null && !name.contains("/")) {
                    certBytes = readSmall(tin, e.getSize(), options.limits().maxSmallFileBytes(), archive + "!" + name);
                    certName = name;
                } else {
                    warnings.add(archive + ": member '" + name + "' is not referenced by the descriptor: skipped");
                }
                progress.update(archive, sourceBytes(), total);
            }
        }

        private FileRef chunkOf(String name) {
            int dot = name.lastIndexOf('.');
            if (dot < 0 || !name.substring(dot + 1).matches("\\d{9}")) {
                return null;
            }
            FileRef fr = byHref.get(name.substring(0, dot));
            return fr != null && fr.chunked() ? fr : null;
        }

        private void checkDeclaredSize(FileRef fr, long actual, String where) {
            if (fr.size() >= 0 && fr.size() != actual) {
                throw new OvfException(OvfException.Kind.INTEGRITY, where + ": File " + fr.id() + " declares ovf:size " + fr.size()
                        + " bytes, the package holds " + actual);
            }
        }

        /** Reassembles a chunked file from consecutive tar members, hashing each chunk under its own name. */
        private final class TarChunks extends InputStream {
            private final TarArchiveInputStream tin;
            private final String archive;
            private final FileRef file;
            private final int[] count;
            private final Set<String> seen;
            private HashingInputStream current;
            private String currentName;
            private long currentSize;
            private int index;
            private long total;
            private TarArchiveEntry next;
            private boolean done;

            TarChunks(TarArchiveInputStream tin, String archive, FileRef file, TarArchiveEntry first, int[] count, Set<String> seen) {
                this.tin = tin;
                this.archive = archive;
                this.file = file;
                this.count = count;
                this.seen = seen;
                open(first);
            }

            private void open(TarArchiveEntry e) {
                currentName = PackagePaths.normalize(e.getName());
                currentSize = e.getSize();
                current = new HashingInputStream(tin, digestsFor(currentName));
            }

            private boolean advance() throws IOException {
                if (done) {
                    return false;
                }
                digests.put(currentName, current.finish());
                total += currentSize;
                if (currentSize != file.chunkSize() && file.size() >= 0 && total < file.size()) {
                    throw new OvfException(OvfException.Kind.CORRUPT_DISK, archive + ": chunk '" + currentName + "' holds " + currentSize
                            + " bytes; every chunk but the last must hold ovf:chunkSize " + file.chunkSize());
                }
                TarArchiveEntry e = nextFile(tin, archive, options.limits(), count);
                String expected = file.chunkName(++index);
                if (e != null && PackagePaths.normalize(e.getName()).equals(expected)) {
                    if (!seen.add(expected)) {
                        throw new OvfException(OvfException.Kind.UNSAFE_ARCHIVE, archive + ": member '" + expected + "' appears twice");
                    }
                    open(e);
                    return true;
                }
                next = e;
                done = true;
                return false;
            }

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                while (!done) {
                    int n = current.read(b, off, len);
                    if (n >= 0) {
                        return n;
                    }
                    advance();
                }
                return -1;
            }

            /** Reads the rest, checks the total, and returns the member after the last chunk (or null). */
            TarArchiveEntry finish() throws IOException {
                byte[] buf = new byte[1 << 16];
                while (read(buf, 0, buf.length) >= 0) {
                    // consume the remaining chunks so every chunk is hashed
                }
                if (file.size() >= 0 && total != file.size()) {
                    throw new OvfException(OvfException.Kind.INTEGRITY, archive + ": File " + file.id() + " declares ovf:size " + file.size()
                            + " bytes, its " + index + " chunks hold " + total);
                }
                return next;
            }
        }

        void folder(FileObject desc) throws IOException {
            String base = desc.getName().getBaseName();
            long size = knownSize(desc);
            total = size;
            byte[] d;
            try (InputStream in = desc.getContent().getInputStream()) {
                counter = new Counting(in);
                counter.onProgress = done -> progress.update(base, done, -1);
                HashingInputStream h = new HashingInputStream(counter, EnumSet.allOf(Digest.class));
                d = readSmall(h, size, options.limits().maxDescriptorBytes(), base);
                digests.put(base, h.finish());
            }
            FileObject parent = desc.getParent();
            String stem = base.substring(0, base.length() - 4);
            manifestName = sibling(parent, stem, ".mf");
            if (manifestName != null) {
                FileObject mf = parent.resolveFile(manifestName);
                try (InputStream in = mf.getContent().getInputStream()) {
                    manifestBytes = readSmall(in, knownSize(mf), options.limits().maxSmallFileBytes(), manifestName);
                }
                manifest = Manifest.parse(manifestBytes, manifestName);
                warnings.addAll(manifest.warnings());
            }
            certName = sibling(parent, stem, ".cert");
            if (certName != null) {
                FileObject c = parent.resolveFile(certName);
                try (InputStream in = c.getContent().getInputStream()) {
                    certBytes = readSmall(in, knownSize(c), options.limits().maxSmallFileBytes(), certName);
                }
            }
            descriptor(d, base);
            total = -1;
            for (FileRef fr : envelope.references()) {
                String href = PackagePaths.normalize(fr.href());
                if (fr.chunked()) {
                    importFile(fr, new FolderChunks(parent, fr), href + ".*");
                } else {
                    FileObject f = parent.resolveFile(href);
                    if (!f.exists()) {
                        throw new OvfException(OvfException.Kind.INVALID, desc.getName().getBaseName() + ": File " + fr.id() + " ('" + href
                                + "') is missing from the package");
                    }
                    checkDeclaredSize(fr, knownSize(f), href);
                    try (InputStream in = f.getContent().getInputStream()) {
                        HashingInputStream hs = new HashingInputStream(new Counting(in, counter), digestsFor(href));
                        importFile(fr, hs, href);
                        digests.put(href, hs.finish());
                    }
                }
                filesDone.add(fr.id());
            }
        }

        private String sibling(FileObject parent, String stem, String ext) throws FileSystemException {
            for (String n : new String[] {stem + ext, stem + ext.toUpperCase(Locale.ROOT)}) {
                if (parent.resolveFile(n).exists()) {
                    return n;
                }
            }
            return null;
        }

        /** Chunk files of a folder package, read one after the other. */
        private final class FolderChunks extends InputStream {
            private final FileObject parent;
            private final FileRef file;
            private int index;
            private InputStream raw;
            private HashingInputStream current;
            private String name;
            private long total;

            FolderChunks(FileObject parent, FileRef file) throws IOException {
                this.parent = parent;
                this.file = file;
                if (!openNext()) {
                    throw new OvfException(OvfException.Kind.INVALID, "File " + file.id() + ": chunk " + file.chunkName(0) + " is missing");
                }
            }

            private boolean openNext() throws IOException {
                name = PackagePaths.normalize(file.chunkName(index++));
                FileObject f = parent.resolveFile(name);
                if (!f.exists()) {
                    return false;
                }
                raw = f.getContent().getInputStream();
                current = new HashingInputStream(new Counting(raw, counter), digestsFor(name));
                return true;
            }

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                while (current != null) {
                    int n = current.read(b, off, len);
                    if (n >= 0) {
                        return n;
                    }
                    digests.put(name, current.finish());
                    total += current.count();
                    raw.close();
                    current = null;
                    if (file.size() >= 0 && total >= file.size() || !openNext()) {
                        if (file.size() >= 0 && total != file.size()) {
                            throw new OvfException(OvfException.Kind.INTEGRITY, "File " + file.id() + " declares ovf:size " + file.size()
                                    + " bytes, its chunks hold " + total);
                        }
                        return -1;
                    }
                }
                return -1;
            }
        }

        /** Converts or copies one referenced file into the staging folder. */
        void importFile(FileRef fr, InputStream raw, String where) throws IOException {
            InputStream data = raw;
            if (fr.gzip()) {
                try {
                    data = new GzipCompressorInputStream(new BufferedInputStream(raw, 1 << 16));
                } catch (IOException e) {
                    throw new OvfException(OvfException.Kind.CORRUPT_DISK, where + ": File " + fr.id() + " is declared gzip but is not: " + e.getMessage(), e);
                }
            }
            BufferedInputStream in = new BufferedInputStream(new Guard(data, where), 1 << 20);
            VirtualDisk d = diskByFile.get(fr.id());
            try {
                if (d == null) {
                    Path out = staging.dir().resolve(otherPath(fr));
                    Files.createDirectories(out.getParent());
                    copyBounded(in, out, fr.size() >= 0 && !fr.gzip() ? fr.size() : options.limits().maxDiskBytes(), where);
                    return;
                }
                long capacity;
                try {
                    capacity = Units.capacityBytes(d, props);
                } catch (IllegalArgumentException e) {
                    throw new OvfException(OvfException.Kind.INVALID, "Disk " + d.diskId() + ": " + e.getMessage());
                }
                Path out = staging.dir().resolve(diskPath(d, fr));
                in.mark(8);
                byte[] magic = in.readNBytes(4);
                in.reset();
                DiskImages.Format f = DiskImages.formatOf(d.format());
                boolean vmdk = magic.length == 4 && magic[0] == 'K' && magic[1] == 'D' && magic[2] == 'M' && magic[3] == 'V';
                boolean qcow = magic.length == 4 && magic[0] == 'Q' && magic[1] == 'F' && magic[2] == 'I' && (magic[3] & 0xff) == 0xfb;
                DiskImages.Converted c;
                if (vmdk || f == DiskImages.Format.VMDK_STREAM_OPTIMIZED || f == DiskImages.Format.VMDK_SPARSE) {
                    if (vmdk && f != DiskImages.Format.VMDK_STREAM_OPTIMIZED && f != DiskImages.Format.VMDK_SPARSE) {
                        warnings.add(where + ": Disk " + d.diskId() + " says format '" + d.format() + "' but holds a VMDK: read as VMDK");
                    }
                    c = DiskImages.vmdkToRaw(in, where, capacity, out);
                } else if (qcow || f == DiskImages.Format.QCOW2) {
                    c = DiskImages.qcow2ToRaw(in, where, capacity, out);
                } else if (f == DiskImages.Format.RAW) {
                    c = DiskImages.rawCopy(in, where, capacity, out);
                } else {
                    long n = copyBounded(in, out, options.limits().maxDiskBytes(), where);
                    warnings.add(where + ": Disk " + d.diskId() + " (" + d.format() + ") copied as it is, not converted");
                    c = new DiskImages.Converted(capacity, n, n, "copied");
                }
                diskBytes += c.dataBytes();
            } catch (OvfException e) {
                throw e;
            } catch (IOException e) {
                throw new OvfException(OvfException.Kind.CORRUPT_DISK, where + ": " + e.getMessage(), e);
            }
        }

        private long copyBounded(InputStream in, Path out, long max, String where) throws IOException {
            long n = 0;
            try (OutputStream o = Files.newOutputStream(out, StandardOpenOption.CREATE_NEW)) {
                byte[] buf = new byte[1 << 20];
                int k;
                while ((k = in.read(buf)) >= 0) {
                    n += k;
                    if (n > max) {
                        throw new OvfException(OvfException.Kind.TOO_LARGE, where + ": more than " + max + " bytes");
                    }
                    o.write(buf, 0, k);
                }
            }
            return n;
        }

        void finishChecks() throws IOException {
            for (FileRef fr : envelope.references()) {
                if (!filesDone.contains(fr.id())) {
                    throw new OvfException(OvfException.Kind.INVALID, descriptorName + ": File " + fr.id() + " ('" + fr.href()
                            + "') is missing from the package");
                }
            }
            for (VirtualDisk d : envelope.disks()) {
                if (d.fileRef().isEmpty()) {
                    // A Disk without a File is a blank disk of its capacity (Cisco's iosv flash2).
                    long cap = Units.capacityBytes(d, props);
                    try (RawSink s = new RawSink(staging.dir().resolve(diskPath(d, null)), cap)) {
                        s.finish();
                    }
                }
            }
            if (manifest == null && options.requireManifest()) {
                throw new OvfException(OvfException.Kind.INTEGRITY, source + ": the package has no manifest and one is required");
            }
            if (manifest != null) {
                verifyManifest();
            }
            if (certBytes != null) {
                if (manifestBytes == null) {
                    throw new OvfException(OvfException.Kind.INTEGRITY, certName + ": a signature without a manifest");
                }
                signature = Signing.verify(certBytes, certName, manifestBytes, manifestName, options.trustAnchors());
                warnings.addAll(signature.warnings());
                Files.write(staging.dir().resolve(safeName(certName)), certBytes);
            } else if (options.requireSignature()) {
                throw new OvfException(OvfException.Kind.INTEGRITY, source + ": the package is not signed and a signature is required");
            }
        }

        private void verifyManifest() throws IOException {
            Set<String> listed = new HashSet<>();
            for (Manifest.Entry e : manifest.entries()) {
                String name = PackagePaths.normalize(e.file());
                listed.add(name);
                Map<Digest, String> got = digests.get(name);
                if (got == null) {
                    throw new OvfException(OvfException.Kind.INTEGRITY, manifestName + ":" + e.line() + ": lists '" + e.file()
                            + "', which the package does not hold");
                }
                String actual = got.get(e.digest());
                if (!e.hex().equals(actual)) {
                    throw new OvfException(OvfException.Kind.INTEGRITY, manifestName + ":" + e.line() + ": " + e.digest() + " of '" + e.file()
                            + "' is " + actual + ", the manifest says " + e.hex());
                }
            }
            for (String member : digests.keySet()) {
                if (!listed.contains(member)) {
                    throw new OvfException(OvfException.Kind.INTEGRITY, manifestName + ": '" + member + "' is in the package but not in the manifest");
                }
            }
            Files.write(staging.dir().resolve(safeName(manifestName)), manifestBytes);
        }

        String manifestSummary() {
            if (manifest == null) {
                return "";
            }
            Set<Digest> algs = EnumSet.noneOf(Digest.class);
            manifest.entries().forEach(e -> algs.add(e.digest()));
            return algs + ", " + manifest.entries().size() + " entries verified";
        }

        List<VmSpecMapper.Mapped> writeVms() throws IOException {
            Path vms = staging.dir().resolve("vms");
            Files.createDirectories(vms);
            for (VmSpecMapper.Mapped m : mapped) {
                for (DiskSpec ds : m.spec().disks()) {
                    if (!ds.path().isEmpty() && !Files.exists(staging.dir().resolve(staging.target().relativize(Path.of(ds.path()))))) {
                        throw new OvfException(OvfException.Kind.INVALID, "disk " + ds.name() + " of " + m.spec().name() + " was not imported");
                    }
                }
                Path f = vms.resolve(m.spec().name() + ".json");
                if (Files.exists(f)) {
                    f = vms.resolve(m.spec().name() + "-" + m.virtualSystemId().hashCode() + ".json");
                }
                Files.write(f, VmSpecJson.toJson(m.spec()), StandardOpenOption.CREATE_NEW);
            }
            return mapped;
        }
    }

    static String safeName(String s) {
        String n = s.replaceAll("[^A-Za-z0-9._-]+", "_");
        return n.startsWith(".") ? "_" + n : n;
    }

    /** Turns an unexpected end of an archive member into a clear error. */
    private static final class Guard extends FilterInputStream {
        private final String where;

        Guard(InputStream in, String where) {
            super(in);
            this.where = where;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return super.read(b, off, len);
            } catch (java.io.EOFException e) {
                throw new OvfException(OvfException.Kind.CORRUPT_DISK, where + ": truncated: " + e.getMessage(), e);
            }
        }
    }

    /** Counts bytes read from the source (for progress and the report), optionally adding to a parent counter. */
    private static final class Counting extends FilterInputStream {
        long count;
        private long reported;
        java.util.function.LongConsumer onProgress;
        private final Counting parent;

        Counting(InputStream in) {
            this(in, null);
        }

        Counting(InputStream in, Counting parent) {
            super(in);
            this.parent = parent;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                add(1);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                add(n);
            }
            return n;
        }

        private void add(long n) {
            count += n;
            if (parent != null) {
                parent.add(n);
            } else if (onProgress != null && count - reported >= 16 << 20) {
                reported = count;
                onProgress.accept(count);
            }
        }
    }
}
