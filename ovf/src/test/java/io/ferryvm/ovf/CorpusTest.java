package io.ferryvm.ovf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryvm.core.VmSpec;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every descriptor of the shared corpus: producers' files map to VmSpecs or say why; negative files are refused naming the fault. */
class CorpusTest {
    /** Files that cannot become a VM, and the reason the mapping must give. */
    static final Map<String, String> NOT_A_VM = Map.of(
            "cot-tests/minimal.ovf", "no Memory Item",
            "cot-tests/ersatz-ovf-3.0.ovf", "envelope/3 is a version Ferry does not read",
            "vmware/properties.ovf", "no Memory Item",
            "vmware/unknownsections.ovf", "no Memory Item",
            "vmware/l10n_external.ovf", "no VirtualSystem",
            "ovirt/vmOvfData.ovf", "Disk eb331cad-8842-48d9-9c56-40b893dc8b1e without ovf:capacity",
            "ovirt/virt-v2v-output-ovirt.ovf", "duplicate InstanceID #UUID#");

    /** Deliberately broken files and the fault each rejection must name. */
    static final Map<String, List<String>> NEGATIVE = Map.of(
            "negative/invalid_version.ovf", List.of("invalid_version.ovf:3:", "References is in namespace http://schemas.dmtf.org/ovf/envelope/2",
                    "cannot mix OVF versions"),
            "negative/invalid_namespace.ovf", List.of("invalid_namespace.ovf:2:", "{http://nosuchspec.com/ovf/envelope/1}Envelope is not an OVF Envelope"),
            "negative/dup_instanceid.ovf", List.of("dup_instanceid.ovf:31:", "duplicate InstanceID 6"),
            "negative/negative-size-disk.ovf", List.of("negative-size-disk.ovf:5:", "File file1 has a negative ovf:size -9223372036854775807",
                    "populatedSize 9223372036854775807 exceeds its capacity"),
            "negative/no_resourcetype.ovf", List.of("no_resourcetype.ovf:23:", "has no rasd:ResourceType"),
            "cot-tests/invalid.ovf", List.of("Disk flash2 ovf:fileRef 'flash2' names no File", "HostResource 'nonexistent.vmdk'",
                    "rasd:Parent 27 is a Ethernet Adapter, not a controller"));

    static Stream<String> descriptors() {
        return Shared.descriptors().stream();
    }

    static Stream<String> producers() {
        return Shared.descriptors().stream().filter(f -> !NEGATIVE.containsKey(f));
    }

    static Stream<String> readable() {
        return producers().filter(f -> !f.contains("ersatz"));
    }

    /** Reads, validates and maps as an import does: errors throw. */
    static List<VmSpecMapper.Mapped> load(String rel, VmSpecMapper.Options o) {
        byte[] b = Shared.read(rel);
        EnvelopeReader.Result r = EnvelopeReader.read(b, rel.substring(rel.lastIndexOf('/') + 1));
        EnvelopeValidator.requireNoErrors(EnvelopeValidator.validate(r.envelope()), rel);
        return VmSpecMapper.toVmSpecs(r.envelope(), o);
    }

    @Test
    void corpusIsThere() {
        assertEquals(37, Shared.descriptors().size(), "37 descriptors in the shared corpus");
    }

    @ParameterizedTest
    @MethodSource("producers")
    void producersMapToVmSpecsOrSayWhy(String rel) {
        String reason = NOT_A_VM.get(rel);
        if (reason != null) {
            OvfException e = assertThrows(OvfException.class, () -> load(rel, VmSpecMapper.Options.DEFAULT));
            assertTrue(e.getMessage().contains(reason), () -> rel + ": expected '" + reason + "' in: " + e.getMessage());
            return;
        }
        List<VmSpecMapper.Mapped> vms = load(rel, VmSpecMapper.Options.DEFAULT);
        assertFalse(vms.isEmpty());
        for (VmSpecMapper.Mapped m : vms) {
            assertTrue(m.spec().memoryBytes() >= 1 << 20);
            assertTrue(m.spec().vcpus() >= 1);
        }
    }

    @Test
    void theCountOfMappedFilesIsKnown() {
        Shared.dir();
        int files = 0;
        int vms = 0;
        for (String rel : producers().toList()) {
            if (!NOT_A_VM.containsKey(rel)) {
                files++;
                vms += load(rel, VmSpecMapper.Options.DEFAULT).size();
            }
        }
        assertEquals(24, files, "producer files that map");
        assertEquals(27, vms, "VmSpecs from them");
    }

    @ParameterizedTest
    @MethodSource("negativeFiles")
    void negativeFilesAreRejectedNamingTheFault(String rel) {
        OvfException e = assertThrows(OvfException.class, () -> load(rel, VmSpecMapper.Options.DEFAULT));
        for (String part : NEGATIVE.get(rel)) {
            assertTrue(e.getMessage().contains(part), () -> rel + ": expected '" + part + "' in: " + e.getMessage());
        }
    }

    static Stream<String> negativeFiles() {
        Shared.dir();
        return NEGATIVE.keySet().stream().sorted();
    }

    @Test
    void deploymentOptionsChooseTheHardware() {
        Shared.dir();
        VmSpec def = load("cisco/csr1000v.ovf", VmSpecMapper.Options.DEFAULT).get(0).spec();
        VmSpec big = load("cisco/csr1000v.ovf", new VmSpecMapper.Options("4CPU-8GB", Map.of(), Map.of(), false)).get(0).spec();
        assertEquals(1, def.vcpus());
        assertEquals(4L << 30, def.memoryBytes());
        assertEquals(4, big.vcpus());
        assertEquals(8L << 30, big.memoryBytes());
        OvfException e = assertThrows(OvfException.class,
                () -> load("cisco/csr1000v.ovf", new VmSpecMapper.Options("16CPU", Map.of(), Map.of(), false)));
        assertTrue(e.getMessage().contains("deployment option '16CPU' is not offered"), e.getMessage());
        VmSpec ios = load("cisco/iosv.ovf", new VmSpecMapper.Options("1CPU-3GB-16NIC", Map.of(), Map.of(), false)).get(0).spec();
        assertEquals(16, ios.nics().size());
        assertEquals(3L << 30, ios.memoryBytes());
    }

    @Test
    void unitsSpellingsAndNamespacesFromRealProducers() {
        Shared.dir();
        VmSpec win = load("vmware/win10-ovftool41-no-default-rasd-ns.ovf", VmSpecMapper.Options.DEFAULT).get(0).spec();
        assertEquals(128L << 30, win.disks().get(0).capacityBytes(), "capacity 128 x byte * 2^30");
        assertEquals(4, win.vcpus());
        VmSpec vbox = load("virtualbox/winxp-sharedfolders.ovf", VmSpecMapper.Options.DEFAULT).get(0).spec();
        assertEquals(895L << 20, vbox.memoryBytes(), "AllocationUnits MegaBytes");
        VmSpec v2 = load("virtualbox/ubuntu-ovf2.0.ovf", VmSpecMapper.Options.DEFAULT).get(0).spec();
        assertEquals("sata", v2.disks().get(0).bus(), "2.x StorageItem on an AHCI controller");
        assertEquals("NAT", v2.nics().get(0).network(), "2.x EthernetPortItem");
        VmSpec haproxy = load("vmware/configspec.ovf", VmSpecMapper.Options.DEFAULT).get(0).spec();
        assertEquals(2, haproxy.vcpus());
        VmSpec xen = load("xen/xenserver-sample_app.ovf", VmSpecMapper.Options.DEFAULT).get(0).spec();
        assertEquals(64L << 20, xen.memoryBytes(), "UTF-16-declared UTF-8 file read");
        List<VmSpecMapper.Mapped> vapp = load("vmware/vcd_vapp.ovf", VmSpecMapper.Options.DEFAULT);
        assertEquals(2, vapp.size(), "a VirtualSystemCollection of two VMs");
        List<Finding> audioFindings = EnvelopeValidator.validate(Shared.read("virtualbox/winxp-audio-nodisks.ovf"), "winxp.ovf", null);
        assertTrue(audioFindings.stream().anyMatch(f -> !f.isError() && f.message().contains("ResourceType 35 (sound card (VirtualBox, not CIM))")),
                audioFindings.toString());
        VmSpecMapper.Mapped audio = load("virtualbox/winxp-audio-nodisks.ovf", VmSpecMapper.Options.DEFAULT).get(0);
        assertTrue(audio.warnings().stream().anyMatch(w -> w.contains("sound card")), audio.warnings().toString());
        VmSpec oldVmware = load("vmware/v0.9.ovf", VmSpecMapper.Options.DEFAULT).get(0).spec();
        assertEquals(8L << 30, oldVmware.memoryBytes(), "OVF 0.9 Section xsi:type style");
        VmSpec ovirt = load("ovirt/vmOvfData2.ovf", VmSpecMapper.Options.DEFAULT).get(0).spec();
        assertEquals(200L << 30, ovirt.disks().get(0).capacityBytes(), "oVirt's ovf:size in GiB");
    }

    @ParameterizedTest
    @MethodSource("readable")
    void readWriteReadKeepsEverySection(String rel) {
        Envelope first = EnvelopeReader.read(Shared.read(rel), rel).envelope();
        byte[] written = EnvelopeWriter.write(first);
        Envelope second = EnvelopeReader.read(written, "rewritten " + rel).envelope();
        // 0.9 is written as 1.x: everything else must be the same
        sameText(canon(first).toString().replace("version=V0_9", "version=V1"), canon(second).toString(), rel);
        assertArrayEquals(written, EnvelopeWriter.write(second), "writing is stable: " + rel);
    }

    @ParameterizedTest
    @MethodSource("readable")
    void convertingBetweenVersionsKeepsTheContent(String rel) {
        Envelope first = EnvelopeReader.read(Shared.read(rel), rel).envelope();
        OvfVersion other = first.version() == OvfVersion.V2 ? OvfVersion.V1 : OvfVersion.V2;
        Envelope converted = EnvelopeReader.read(EnvelopeWriter.write(first, other), "converted " + rel).envelope();
        assertEquals(other, converted.version());
        Envelope back = EnvelopeReader.read(EnvelopeWriter.write(converted, first.version() == OvfVersion.V0_9 ? OvfVersion.V1
                : first.version()), "back " + rel).envelope();
        String a = canon(first).toString().replace("version=V0_9", "version=V1");
        String b = canon(back).toString();
        if (first.version() == OvfVersion.V2) {
            // 1.x has only Item: StorageItem and EthernetPortItem come back as Items with the same properties
            a = a.replaceAll("kind=(ITEM|STORAGE|ETHERNET)", "kind=K");
            b = b.replaceAll("kind=(ITEM|STORAGE|ETHERNET)", "kind=K");
        }
        sameText(a, b, rel);
    }

    @Test
    void schemaValidationGivesWarningsWithLines() {
        Shared.dir();
        for (String ok : List.of("canonical/ubuntu-server.ovf", "cisco/csr1000v.ovf", "vmware/properties.ovf", "vmware/vcd_vapp.ovf")) {
            List<Finding> f = EnvelopeValidator.validateSchema(Shared.read(ok), ok, OvfVersion.V1, Shared.schemas());
            assertEquals(List.of(), f, ok + " is valid against DSP8023 1.1.1");
        }
        String rel = "virtualbox/vbox5-all-storage-controllers.ovf";
        List<Finding> f = EnvelopeValidator.validateSchema(Shared.read(rel), rel, OvfVersion.V1, Shared.schemas());
        assertFalse(f.isEmpty(), "rasd children out of schema order");
        assertTrue(f.stream().allMatch(x -> !x.isError() && x.at().line() > 0), f.toString());
        List<Finding> v2 = EnvelopeValidator.validateSchema(Shared.read("virtualbox/ubuntu-ovf2.0.ovf"), "u", OvfVersion.V2, Shared.schemas());
        assertFalse(v2.isEmpty(), "VirtualBox 2.0 export fails the strict 2.0.1 schema");
    }

    /** assertEquals for long texts: the message shows where they part. */
    static void sameText(String a, String b, String what) {
        if (a.equals(b)) {
            return;
        }
        int i = 0;
        while (i < a.length() && i < b.length() && a.charAt(i) == b.charAt(i)) {
            i++;
        }
        int from = Math.max(0, i - 150);
        throw new org.opentest4j.AssertionFailedError(what + " differs at " + i + ":\n  before: ..." + a.substring(from, Math.min(a.length(), i + 150))
                + "\n  after:  ..." + b.substring(from, Math.min(b.length(), i + 150)));
    }

    /** The model without locations, prefixes and namespace spellings: what must survive a write and a read. */
    static Object canon(Object o) {
        if (o == null || o instanceof Location) {
            return "";
        }
        if (o instanceof String s) {
            return s.strip().replace("http://schemas.dmtf.org/ovf/envelope/1/", "OVF").replace("http://schemas.dmtf.org/ovf/envelope/1", "OVF")
                    .replace("http://schemas.dmtf.org/ovf/envelope/2", "OVF").replace("http://www.vmware.com/schema/ovf/1/envelope", "OVF");
        }
        if (o instanceof Msg m) {
            return m.text().strip() + (m.msgid().isEmpty() ? "" : "#" + m.msgid());
        }
        if (o instanceof Record r) {
            Map<String, Object> m = new TreeMap<>();
            for (RecordComponent c : r.getClass().getRecordComponents()) {
                if (c.getName().equals("prefix") || c.getName().equals("namespaces") || c.getName().equals("versionAttribute")
                        || c.getName().equals("at")) {
                    continue;
                }
                try {
                    Object v = c.getAccessor().invoke(r);
                    if (r instanceof Item && c.getName().equals("properties")) {
                        List<Item.Rasd> sorted = new ArrayList<>(((Item) r).properties());
                        sorted.sort(java.util.Comparator.comparing(Item.Rasd::name));
                        v = sorted;
                    }
                    if (r instanceof XmlNode n && c.getName().equals("text") && !n.children().isEmpty()) {
                        v = "";
                    }
                    if (r instanceof XmlNode && c.getName().equals("ns") && "".equals(v)) {
                        v = "OVF"; // oVirt's unqualified elements are written back in the OVF namespace
                    }
                    m.put(c.getName(), canon(v));
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
            return r.getClass().getSimpleName() + m;
        }
        if (o instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            for (Object x : l) {
                out.add(canon(x));
            }
            return out;
        }
        if (o instanceof Map<?, ?> map) {
            Map<Object, Object> out = new TreeMap<>();
            for (Map.Entry<?, ?> en : map.entrySet()) {
                out.put(canon(en.getKey()), canon(en.getValue()));
            }
            return out;
        }
        return o;
    }
}
