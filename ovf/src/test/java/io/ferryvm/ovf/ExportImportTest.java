package io.ferryvm.ovf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmSpecJson;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Ferry's exports import back bit for bit, in every package layout real tools write; qemu-img checks the exported disks. */
class ExportImportTest {
    @TempDir
    Path dir;

    private Path exportFolder(VmSpec vm, OvfVersion v) {
        Path out = dir.resolve("exported-" + v);
        new OvfExporter(new OvfExporter.Options(v, OvfExporter.Target.VMWARE, null, false, null, List.of()), OvfImporter.Progress.NONE)
                .export(List.of(vm), out);
        return out;
    }

    private static void assertSameDisks(VmSpec original, OvfImporter.Result r) throws IOException {
        VmSpec imported = r.vms().get(0).spec();
        assertEquals(original.disks().size(), imported.disks().size());
        for (int i = 0; i < original.disks().size(); i++) {
            DiskSpec a = original.disks().get(i);
            DiskSpec b = imported.disks().get(i);
            assertTrue(b.path().startsWith(r.directory().toString()), b.path());
            byte[] want = Files.readAllBytes(Path.of(a.path()));
            byte[] got = Files.readAllBytes(Path.of(b.path()));
            if (!a.readOnly()) {
                // capacities are whole sectors in VMDK: the tail is zero
                assertEquals((a.capacityBytes() + 511) / 512 * 512, got.length, b.name());
                got = Arrays.copyOf(got, want.length);
            }
            assertArrayEquals(want, got, "disk " + a.name() + " imported bit for bit");
        }
    }

    @Test
    void exportThenImportKeepsTheVmAndEveryByte() throws Exception {
        VmSpec vm = Packages.vm(dir, "web-1");
        Path ova = dir.resolve("web-1.ova");
        OvfExporter.Options ferry = new OvfExporter.Options(OvfVersion.V2, OvfExporter.Target.FERRY, null, true, null, List.of());
        OvfExporter.Result ex = new OvfExporter(ferry, OvfImporter.Progress.NONE).export(List.of(vm), ova);
        assertEquals(List.of("web-1.ovf", "web-1.mf", "web-1-root.vmdk", "web-1-data.vmdk", "web-1-cd.iso"), ex.members());
        List<String> order = new ArrayList<>();
        try (TarArchiveInputStream t = new TarArchiveInputStream(Files.newInputStream(ova))) {
            TarArchiveEntry e;
            while ((e = t.getNextEntry()) != null) {
                order.add(e.getName());
            }
        }
        assertEquals(ex.members(), order, "descriptor, manifest, then the files in References order");
        Path target = dir.resolve("imported");
        List<Long> progress = new ArrayList<>();
        OvfImporter.Result r = new OvfImporter(OvfImporter.Options.DEFAULT, (w, done, total) -> progress.add(done)).importPackage(ova.toString(), target);
        assertEquals("[SHA256], 4 entries verified", r.manifest());
        VmSpec back = r.vms().get(0).spec();
        assertEquals(vm.name(), back.name());
        assertEquals(vm.vcpus(), back.vcpus());
        assertEquals(vm.memoryBytes(), back.memoryBytes());
        assertEquals(vm.workload(), back.workload());
        assertEquals(vm.numa(), back.numa());
        assertEquals(vm.ha(), back.ha());
        assertEquals(vm.osType(), back.osType());
        assertEquals(List.of("frontend", "backend"), back.nics().stream().map(n -> n.network()).toList());
        assertEquals("52:54:00:12:34:56", back.nics().get(0).mac());
        assertEquals(List.of(false, false, true), back.disks().stream().map(DiskSpec::readOnly).toList());
        assertEquals(List.of("root", "data", "cd"), back.disks().stream().map(DiskSpec::name).toList());
        assertEquals(List.of("virtio", "scsi", "sata"), back.disks().stream().map(DiskSpec::bus).toList(), "FERRY target keeps virtio");
        assertSameDisks(vm, r);
        VmSpec fromJson = VmSpecJson.read(Files.readAllBytes(target.resolve("vms/web-1.json")), VmSpec.class, "web-1.json", true);
        assertEquals(back, fromJson);
        assertTrue(Files.exists(target.resolve("web-1.ovf")) && Files.exists(target.resolve("web-1.mf")));
        assertTrue(r.summary().startsWith("imported 1 VM(s) to " + target), r.summary());
    }

    @Test
    void signingAnExistingPackageAndItsFolder() throws Exception {
        VmSpec vm = Packages.vm(dir, "signed");
        Packages.Signer signer = Packages.signer("release team");
        Path ova = dir.resolve("unsigned.ova");
        new OvfExporter(OvfExporter.Options.DEFAULT, OvfImporter.Progress.NONE).export(List.of(vm), ova);
        Path signed = Signing.signPackage(ova, signer.keys().getPrivate(), List.of(signer.cert()), dir.resolve("signed.ova"));
        List<String> order = new ArrayList<>();
        try (TarArchiveInputStream t = new TarArchiveInputStream(Files.newInputStream(signed))) {
            TarArchiveEntry e;
            while ((e = t.getNextEntry()) != null) {
                order.add(e.getName());
            }
        }
        assertEquals(List.of("unsigned.ovf", "unsigned.mf", "unsigned.cert"), order.subList(0, 3), "the certificate follows the manifest");
        OvfImporter.Options strict = OvfImporter.Options.DEFAULT.requiring(true, true).withTrust(List.of(signer.cert()));
        OvfImporter.Result r = new OvfImporter(strict, OvfImporter.Progress.NONE).importPackage(signed.toString(), dir.resolve("s1"));
        assertTrue(r.signature().trusted());
        Path folder = exportFolder(vm, OvfVersion.V1);
        Path cert = Signing.signPackage(folder, signer.keys().getPrivate(), List.of(signer.cert()), null);
        assertTrue(Files.readString(cert).startsWith("SHA1(exported-V1.mf)= "), "a 1.x package is signed with its manifest's SHA-1");
        OvfImporter.Result f = new OvfImporter(strict, OvfImporter.Progress.NONE).importPackage(folder.toString(), dir.resolve("s2"));
        assertEquals("CN=release team", f.signature().subject());
    }

    @Test
    void membersOf8GiBAndMoreGetPaxHeaders() throws Exception {
        // Only the header is written: the 9 GiB of data never exist.
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        org.apache.commons.compress.archivers.tar.TarArchiveOutputStream t = OvfExporter.tarStream(bytes);
        TarArchiveEntry big = new TarArchiveEntry("disk-" + "x".repeat(120) + ".vmdk");
        big.setSize(9L << 30);
        t.putArchiveEntry(big);
        t.flush();
        String header = new String(bytes.toByteArray(), StandardCharsets.ISO_8859_1);
        assertTrue(header.contains("size=9663676416"), "pax size record");
        assertTrue(header.contains("path=disk-xxx"), "pax path record for a name over 100 characters");
        assertEquals('x', header.charAt(156), "the first header is a pax extended header (type x)");
        assertFalse(header.contains("././@LongLink"), "no GNU extensions");
    }

    @Test
    void severalVmsTravelAsACollection() throws Exception {
        VmSpec a = Packages.vm(dir, "tier-a");
        VmSpec b = Packages.vm(dir, "tier-b").withNuma(io.ferryvm.core.NumaSpec.DEFAULT).withSize(1, 128L << 20);
        Path ova = dir.resolve("vapp.ova");
        OvfExporter.Result ex = new OvfExporter(OvfExporter.Options.DEFAULT, OvfImporter.Progress.NONE).export(List.of(a, b), ova);
        assertTrue(ex.envelope().content() instanceof Content.VirtualSystemCollection);
        OvfImporter.Result r = new OvfImporter(OvfImporter.Options.DEFAULT, OvfImporter.Progress.NONE).importPackage(ova.toString(), dir.resolve("vapp"));
        assertEquals(List.of("tier-a", "tier-b"), r.vms().stream().map(m -> m.spec().name()).toList());
        assertEquals(1, r.vms().get(1).spec().vcpus());
        assertEquals(List.of("root", "data", "cd"), r.vms().get(1).spec().disks().stream().map(DiskSpec::name).toList());
        assertTrue(Files.isRegularFile(dir.resolve("vapp/vms/tier-a.json")) && Files.isRegularFile(dir.resolve("vapp/vms/tier-b.json")));
    }

    @Test
    void exportedDisksPassQemuImg() throws Exception {
        Tools.require("qemu-img");
        VmSpec vm = Packages.vm(dir, "db");
        Path folder = exportFolder(vm, OvfVersion.V2);
        for (String disk : List.of("root", "data")) {
            Path vmdk = folder.resolve("db-" + disk + ".vmdk");
            Tools.Run check = Tools.qemuImg("check", vmdk.toString());
            assertEquals(0, check.exit(), check.out());
            Path raw = dir.resolve(disk + ".back");
            assertEquals(0, Tools.qemuImg("convert", "-O", "raw", vmdk.toString(), raw.toString()).exit());
            byte[] want = Files.readAllBytes(Path.of(vm.disks().stream().filter(d -> d.name().equals(disk)).findFirst().get().path()));
            assertArrayEquals(want, Arrays.copyOf(Files.readAllBytes(raw), want.length));
        }
        String mf = Files.readString(folder.resolve("exported-V2.mf"));
        assertTrue(mf.matches("(?s)(SHA256\\([^)]+\\)= [0-9a-f]{64}\n){4}"), mf);
    }

    @Test
    void ovf1ExportWritesSha1AndTheVersionAsked() throws Exception {
        VmSpec vm = Packages.vm(dir, "old");
        Path folder = exportFolder(vm, OvfVersion.V1);
        String mf = Files.readString(folder.resolve("exported-V1.mf"));
        assertTrue(mf.startsWith("SHA1(exported-V1.ovf)= "), mf);
        Envelope e = EnvelopeReader.read(Files.readAllBytes(folder.resolve("exported-V1.ovf")), "x").envelope();
        assertEquals(OvfVersion.V1, e.version());
        assertEquals(List.of(), EnvelopeValidator.validate(e).stream().filter(Finding::isError).toList());
    }

    @Test
    void exportsAreValidAgainstTheDmtfSchemas() throws Exception {
        Path schemas = Shared.schemas();
        VmSpec vm = Packages.vm(dir, "strict");
        for (OvfVersion v : List.of(OvfVersion.V1, OvfVersion.V2)) {
            Path folder = exportFolder(vm, v);
            byte[] ovf = Files.readAllBytes(folder.resolve("exported-" + v + ".ovf"));
            assertEquals(List.of(), EnvelopeValidator.validateSchema(ovf, "exported-" + v + ".ovf", v, schemas), "strict XSD " + v);
        }
    }

    /** Rebuilds an exported folder as an OVA in a given layout: digest, manifest/cert placement, gzip or chunked disks. */
    private byte[] variant(Path folder, Digest digest, boolean atEnd, String layout, Packages.Signer signer) throws Exception {
        String base = folder.getFileName().toString();
        Envelope env = EnvelopeReader.read(Files.readAllBytes(folder.resolve(base + ".ovf")), base).envelope();
        List<FileRef> refs = new ArrayList<>();
        List<Packages.Member> files = new ArrayList<>();
        for (FileRef f : env.references()) {
            byte[] data = Files.readAllBytes(folder.resolve(f.href()));
            boolean disk = f.href().endsWith(".vmdk");
            if (disk && layout.equals("gzip")) {
                byte[] gz = Packages.gzip(data);
                refs.add(new FileRef(f.id(), f.href() + ".gz", gz.length, "gzip", 0, f.x()));
                files.add(Packages.Member.file(f.href() + ".gz", gz));
            } else if (disk && layout.equals("chunked")) {
                int chunk = 256 << 10;
                refs.add(new FileRef(f.id(), f.href(), data.length, "", chunk, f.x()));
                for (int i = 0; i * chunk < data.length; i++) {
                    files.add(Packages.Member.file(String.format("%s.%09d", f.href(), i),
                            Arrays.copyOfRange(data, i * chunk, Math.min(data.length, (i + 1) * chunk))));
                }
            } else {
                refs.add(f);
                files.add(Packages.Member.file(f.href(), data));
            }
        }
        Envelope changed = new Envelope(env.version(), env.versionAttribute(), env.lang(), refs, env.sections(), env.content(), env.strings(),
                env.namespaces(), env.x());
        byte[] ovf = EnvelopeWriter.write(changed);
        List<Manifest.Entry> entries = new ArrayList<>();
        entries.add(new Manifest.Entry(digest, base + ".ovf", Digest.hex(digest.newDigest().digest(ovf)), 0));
        for (Packages.Member m : files) {
            entries.add(new Manifest.Entry(digest, m.name(), Digest.hex(digest.newDigest().digest(m.data())), 0));
        }
        byte[] mf = new Manifest(entries, List.of()).toBytes();
        List<Packages.Member> meta = new ArrayList<>();
        meta.add(Packages.Member.file(base + ".mf", mf));
        if (signer != null) {
            meta.add(Packages.Member.file(base + ".cert", Signing.sign(mf, base + ".mf", signer.keys().getPrivate(), List.of(signer.cert()), digest)));
        }
        List<Packages.Member> all = new ArrayList<>();
        all.add(Packages.Member.file(base + ".ovf", ovf));
        if (!atEnd) {
            all.addAll(meta);
        }
        all.addAll(files);
        if (atEnd) {
            all.addAll(meta);
        }
        return Packages.tar(all);
    }

    @ParameterizedTest
    @CsvSource({
        "SHA1, false, plain, false", "SHA256, false, plain, true", "SHA512, false, plain, false",
        "SHA1, true, plain, true", "SHA256, true, plain, false", "SHA512, true, plain, true",
        "SHA256, false, gzip, false", "SHA1, true, gzip, true",
        "SHA256, false, chunked, true", "SHA512, true, chunked, false", "SHA1, false, chunked, false"})
    void everyLayoutImports(Digest digest, boolean atEnd, String layout, boolean signed) throws Exception {
        VmSpec vm = Packages.vm(dir, "app");
        Path folder = exportFolder(vm, OvfVersion.V1);
        Packages.Signer signer = signed ? Packages.signer("Ferry test signer") : null;
        Path ova = dir.resolve("layout.ova");
        Files.write(ova, variant(folder, digest, atEnd, layout, signer));
        OvfImporter.Options opts = OvfImporter.Options.DEFAULT.requiring(true, signed)
                .withTrust(signed ? List.of(signer.cert()) : List.of());
        OvfImporter.Result r = new OvfImporter(opts, OvfImporter.Progress.NONE).importPackage(ova.toString(), dir.resolve("in"));
        assertTrue(r.manifest().startsWith("[" + digest + "]"), r.manifest());
        assertSameDisks(vm, r);
        if (signed) {
            assertNotNull(r.signature());
            assertTrue(r.signature().trusted());
            assertEquals("CN=Ferry test signer", r.signature().subject());
        }
    }

    @Test
    void anOvirtStyleQcow2DiskImportsAsRaw() throws Exception {
        Tools.require("qemu-img");
        VmSpec vm = Packages.vm(dir, "ovirt").withDevices(List.of(), List.of());
        Path raw = dir.resolve("ovirt-disk.raw");
        Tools.realisticDisk(raw, 6L << 20, 31);
        Path q = dir.resolve("ovirt-disk");
        assertEquals(0, Tools.qemuImg("convert", "-f", "raw", "-O", "qcow2", raw.toString(), q.toString()).exit());
        byte[] qcow = Files.readAllBytes(q);
        Path folder = exportFolder(vm, OvfVersion.V1);
        Envelope e = EnvelopeReader.read(Files.readAllBytes(folder.resolve("exported-V1.ovf")), "x").envelope();
        FileRef f = new FileRef("d1", "0c0ffee0-d15c", qcow.length, "", 0, Extras.NONE);
        VirtualDisk d = new VirtualDisk("d1", Long.toString(6L << 20), "byte", "d1", VirtualDisk.FORMAT_QCOW2, -1, "", Extras.NONE);
        Content.VirtualSystem vs = (Content.VirtualSystem) e.content();
        List<Section> sections = new ArrayList<>();
        for (Section s : vs.sections()) {
            if (s instanceof Section.VirtualHardwareSection h) {
                List<Item> items = new ArrayList<>(h.items());
                items.add(new Item(Item.Kind.ITEM, List.of(new Item.Rasd("ElementName", "disk", Location.NONE),
                        new Item.Rasd("HostResource", "ovf:/disk/d1", Location.NONE), new Item.Rasd("InstanceID", "99", Location.NONE),
                        new Item.Rasd("ResourceType", "17", Location.NONE)), List.of(), "", Extras.NONE));
                s = new Section.VirtualHardwareSection(h.info(), h.id(), h.transports(), h.system(), items, h.x());
            }
            sections.add(s);
        }
        Envelope changed = new Envelope(e.version(), "", "", List.of(f),
                List.of(new Section.DiskSection(Msg.of("disks"), List.of(d), Extras.NONE)),
                new Content.VirtualSystem(vs.id(), vs.info(), vs.name(), sections, vs.x()), List.of(), e.namespaces(), e.x());
        Path ova = dir.resolve("ovirt.ova");
        Files.write(ova, Packages.tar(List.of(Packages.Member.file("vm.ovf", EnvelopeWriter.write(changed)),
                Packages.Member.file("0c0ffee0-d15c", qcow))));
        OvfImporter.Result r = new OvfImporter(OvfImporter.Options.DEFAULT, OvfImporter.Progress.NONE).importPackage(ova.toString(), dir.resolve("o"));
        DiskSpec disk = r.vms().get(0).spec().disks().get(0);
        assertEquals("raw", disk.format());
        assertArrayEquals(Files.readAllBytes(raw), Files.readAllBytes(Path.of(disk.path())));
    }

    @Test
    void foldersZipTarAndHttpSourcesImport() throws Exception {
        VmSpec vm = Packages.vm(dir, "src");
        Path folder = exportFolder(vm, OvfVersion.V2);
        // a plain folder, by path and by file: URI
        assertSameDisks(vm, new OvfImporter(OvfImporter.Options.DEFAULT, OvfImporter.Progress.NONE)
                .importPackage(folder.toString(), dir.resolve("from-folder")));
        assertSameDisks(vm, new OvfImporter(OvfImporter.Options.DEFAULT, OvfImporter.Progress.NONE)
                .importPackage(folder.resolve("exported-V2.ovf").toUri().toString(), dir.resolve("from-file-uri")));
        // the same folder zipped, read through VFS zip:
        Path zip = dir.resolve("pkg.zip");
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(zip))) {
            for (String n : Packages.listing(folder)) {
                if (!n.isEmpty()) {
                    z.putNextEntry(new ZipEntry("pkg/" + n));
                    z.write(Files.readAllBytes(folder.resolve(n)));
                    z.closeEntry();
                }
            }
        }
        assertSameDisks(vm, new OvfImporter(OvfImporter.Options.DEFAULT, OvfImporter.Progress.NONE)
                .importPackage("zip:" + zip.toUri() + "!/pkg/exported-V2.ovf", dir.resolve("from-zip")));
        // an OVA opened as a tar: folder
        Path ova = dir.resolve("src.ova");
        Files.write(ova, variant(folder, Digest.SHA256, false, "plain", null));
        assertSameDisks(vm, new OvfImporter(OvfImporter.Options.DEFAULT, OvfImporter.Progress.NONE)
                .importPackage("tar:" + ova.toUri() + "!/exported-V2.ovf", dir.resolve("from-tar")));
        // the OVA over HTTP from a loopback server
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        byte[] body = Files.readAllBytes(ova);
        server.createContext("/appliances/src.ova", ex -> {
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(body);
            }
        });
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/appliances/src.ova";
            assertSameDisks(vm, new OvfImporter(OvfImporter.Options.DEFAULT, OvfImporter.Progress.NONE).importPackage(url, dir.resolve("from-http")));
        } finally {
            server.stop(0);
        }
    }

    @Test
    void aBlankDiskAndPropertiesFromTheDescriptor() throws Exception {
        String ovf = """
                <?xml version="1.0"?>
                <Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
                  xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
                  <References/>
                  <DiskSection><Info>disks</Info>
                    <Disk ovf:diskId="scratch" ovf:capacity="${scratch_gb}" ovf:capacityAllocationUnits="byte * 2^20"/>
                  </DiskSection>
                  <VirtualSystem ovf:id="blank">
                    <Info>x</Info>
                    <ProductSection><Info>p</Info>
                      <Property ovf:key="scratch_gb" ovf:type="uint32" ovf:value="3" ovf:userConfigurable="true"/>
                    </ProductSection>
                    <VirtualHardwareSection ovf:transport="iso"><Info>hw</Info>
                      <Item><rasd:ElementName>cpu</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>
                      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ElementName>mem</rasd:ElementName><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>64</rasd:VirtualQuantity></Item>
                      <Item><rasd:ElementName>disk</rasd:ElementName><rasd:HostResource>ovf:/disk/scratch</rasd:HostResource><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceType>17</rasd:ResourceType></Item>
                    </VirtualHardwareSection>
                  </VirtualSystem>
                </Envelope>
                """;
        Path ova = dir.resolve("blank.ova");
        Files.write(ova, Packages.tar(List.of(Packages.Member.file("blank.ovf", ovf.getBytes(StandardCharsets.UTF_8)))));
        OvfImporter.Options o = OvfImporter.Options.DEFAULT.withMapping(new VmSpecMapper.Options(null, Map.of("scratch_gb", "5"), Map.of(), false));
        OvfImporter.Result r = new OvfImporter(o, OvfImporter.Progress.NONE).importPackage(ova.toString(), dir.resolve("blank"));
        DiskSpec d = r.vms().get(0).spec().disks().get(0);
        assertEquals(5L << 20, d.capacityBytes(), "${scratch_gb} resolved from the user's value");
        assertEquals(5L << 20, Files.size(Path.of(d.path())));
        DiskSpec env = r.vms().get(0).spec().disks().get(1);
        assertEquals("ovf-env", env.name(), "the iso transport attaches the OVF environment");
        assertTrue(env.readOnly());
        String iso = new String(Files.readAllBytes(Path.of(env.path())), StandardCharsets.UTF_8);
        assertTrue(iso.contains("oe:key=\"scratch_gb\" oe:value=\"5\""), "the user's value is in ovf-env.xml");
        OvfException unknown = org.junit.jupiter.api.Assertions.assertThrows(OvfException.class, () -> new OvfImporter(
                OvfImporter.Options.DEFAULT.withMapping(new VmSpecMapper.Options(null, Map.of("nosuch", "1"), Map.of(), false)),
                OvfImporter.Progress.NONE).importPackage(ova.toString(), dir.resolve("blank2")));
        assertTrue(unknown.getMessage().contains("property nosuch is not declared in any ProductSection of blank.ovf"), unknown.getMessage());
        assertFalse(Files.exists(dir.resolve("blank2")));
    }
}
