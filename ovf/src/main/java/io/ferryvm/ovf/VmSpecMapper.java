package io.ferryvm.ovf;

import io.ferryvm.core.CoreException;
import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.NicSpec;
import io.ferryvm.core.NumaSpec;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmSpecJson;
import io.ferryvm.core.guest.Workload;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Envelope to {@link VmSpec}: one spec per VirtualSystem, with warnings for what does not map (sound, USB,
 * graphics, vendor extras, unknown optional sections) and an {@link OvfException} of kind MAPPING listing
 * every error for what must map and cannot (no memory, delta disks, a required unknown device).
 *
 * <p>Ferry's own settings with no OVF counterpart (workload, NUMA request, HA policy) travel in a
 * {@code ferry:VirtualMachine} extension element ({@link #FERRY_NS}) at the end of the VirtualHardwareSection,
 * with ovf:required="false" so that other tools skip it.
 */
public final class VmSpecMapper {
    public static final String FERRY_NS = "http://ferryvm.io/ovf/1";

    /**
     * What to map: the deployment option (null: the default one), property values given by the user, the
     * path each disk will have (diskId to path; a missing entry leaves the path empty), and strictness
     * (strict: an unknown section with ovf:required true is an error, as DSP0243 says; otherwise a warning).
     */
    public record Options(String deploymentOption, Map<String, String> propertyValues, Map<String, String> diskPaths, boolean strict) {
        public static final Options DEFAULT = new Options(null, Map.of(), Map.of(), false);

        public Options {
            propertyValues = Map.copyOf(propertyValues);
            diskPaths = Map.copyOf(diskPaths);
        }

        public Options withDiskPaths(Map<String, String> paths) {
            return new Options(deploymentOption, propertyValues, paths, strict);
        }
    }

    /** One mapped VirtualSystem: its id in the descriptor, the spec, the warnings, and which Disk each DiskSpec came from. */
    public record Mapped(String virtualSystemId, VmSpec spec, List<String> warnings, Map<String, String> diskIdByName) {
        public Mapped {
            warnings = List.copyOf(warnings);
            diskIdByName = Map.copyOf(diskIdByName);
        }
    }

    private VmSpecMapper() {}

    /** Maps every VirtualSystem; throws MAPPING listing all errors of all systems. */
    public static List<Mapped> toVmSpecs(Envelope e, Options o) {
        if (e.virtualSystems().isEmpty()) {
            throw new OvfException(OvfException.Kind.MAPPING, e.x().at() + ": the envelope has no VirtualSystem to map");
        }
        List<Mapped> out = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        for (Content.VirtualSystem vs : e.virtualSystems()) {
            try {
                out.add(toVmSpec(e, vs, o));
            } catch (OvfException ex) {
                errors.add(ex.getMessage());
            }
        }
        if (!errors.isEmpty()) {
            throw new OvfException(OvfException.Kind.MAPPING, String.join("\n", errors));
        }
        return out;
    }

    public static Mapped toVmSpec(Envelope e, Content.VirtualSystem vs, Options o) {
        return new ToSpec(e, vs, o).map();
    }

    /** The configuration in force: the one asked for (which must exist) or the default. */
    static String configuration(Envelope e, String asked) {
        Section.DeploymentOptionSection dos = e.deploymentOptions();
        if (asked != null && !asked.isEmpty()) {
            if (dos == null || dos.configurations().stream().noneMatch(c -> c.id().equals(asked))) {
                throw new OvfException(OvfException.Kind.BAD_VALUE, "deployment option '" + asked + "' is not offered"
                        + (dos == null ? " (the descriptor has no DeploymentOptionSection)"
                                : "; choose one of " + dos.configurations().stream().map(Configuration::id).toList()));
            }
            return asked;
        }
        return dos == null ? null : dos.defaultId();
    }

    /** The Items a configuration selects: configuration-specific Items replace the default Item with the same InstanceID. */
    static List<Item> effectiveItems(List<Item> items, String config) {
        Map<String, Item> byId = new LinkedHashMap<>();
        List<Item> noId = new ArrayList<>();
        for (Item i : items) {
            if (!i.bound().isEmpty() && !i.bound().equals("normal")) {
                continue;
            }
            if (!i.selectedBy(config)) {
                continue;
            }
            String id = i.instanceId();
            if (id.isEmpty()) {
                noId.add(i);
                continue;
            }
            Item prev = byId.get(id);
            if (prev == null || prev.configurations().isEmpty() && !i.configurations().isEmpty()) {
                byId.put(id, i);
            }
        }
        List<Item> out = new ArrayList<>(byId.values());
        out.addAll(noId);
        return out;
    }

    private static final class ToSpec {
        private final Envelope e;
        private final Content.VirtualSystem vs;
        private final Options o;
        private final List<String> warnings = new ArrayList<>();
        private final List<String> errors = new ArrayList<>();
        private final String where;

        ToSpec(Envelope e, Content.VirtualSystem vs, Options o) {
            this.e = e;
            this.vs = vs;
            this.o = o;
            this.where = "VirtualSystem '" + vs.id() + "' (" + vs.x().at() + ")";
        }

        private void warn(String s) {
            warnings.add(s);
        }

        Mapped map() {
            String config = configuration(e, o.deploymentOption());
            Map<String, String> props = new HashMap<>(EnvelopeValidator.properties(e));
            props.putAll(o.propertyValues());
            List<Section.VirtualHardwareSection> hw = vs.sectionsOf(Section.VirtualHardwareSection.class);
            if (hw.isEmpty()) {
                throw new OvfException(OvfException.Kind.MAPPING, where + ": no VirtualHardwareSection");
            }
            Section.VirtualHardwareSection vhs = chooseHardware(hw);
            for (Section s : allSections()) {
                if (s instanceof Section.UnknownSection u) {
                    String name = u.node().name() + (u.node().ns().isEmpty() ? "" : " {" + u.node().ns() + "}");
                    if (u.required() && o.strict()) {
                        errors.add("section " + name + " at " + u.x().at() + " is required (ovf:required) and not understood");
                    } else {
                        warn("section " + name + " is not understood" + (u.required() ? " (it is ovf:required; ignored, not strict)" : "")
                                + ": ignored");
                    }
                }
            }
            List<Item> items = effectiveItems(vhs.items(), config);
            Map<String, Item> byId = new HashMap<>();
            for (Item i : items) {
                byId.putIfAbsent(i.instanceId(), i);
            }
            int vcpus = vcpus(items);
            long memory = memory(items);
            List<DiskSpec> disks = new ArrayList<>();
            Map<String, String> diskIdByName = new LinkedHashMap<>();
            List<NicSpec> nics = new ArrayList<>();
            Set<String> names = new HashSet<>();
            for (Item i : items) {
                int t = i.resourceType();
                switch (t) {
                    case Cim.PROCESSOR, Cim.MEMORY, Cim.IDE, Cim.SCSI, Cim.OTHER_STORAGE -> { }
                    case Cim.DISK, Cim.STORAGE_EXTENT, Cim.LOGICAL_DISK, Cim.CD, Cim.DVD -> disk(i, byId, props, disks, diskIdByName, names);
                    case Cim.ETHERNET, Cim.OTHER_NETWORK -> nic(i, nics);
                    case Cim.FLOPPY, Cim.SERIAL, Cim.PARALLEL, Cim.USB, Cim.GRAPHICS, Cim.SOUND_VBOX, Cim.OTHER, Cim.FC, Cim.ISCSI ->
                            warn(i.describe() + " (" + Cim.resourceTypeName(t) + ") has no Ferry equivalent: not mapped");
                    default -> {
                        String what = i.describe() + " (" + Cim.resourceTypeName(t) + ")";
                        if (i.x().isRequired()) {
                            errors.add(what + " at " + i.x().at() + " is required and Ferry cannot provide it");
                        } else {
                            warn(what + " is optional (ovf:required=\"false\") and not understood: not mapped");
                        }
                    }
                }
                for (XmlNode x : i.x().elements()) {
                    if (!x.name().equals("CoresPerSocket")) {
                        warn(i.describe() + ": vendor element " + x.name() + " not mapped");
                    }
                }
            }
            for (XmlNode x : vhs.x().elements()) {
                if (!x.name().equals("Config") && !x.name().equals("ExtraConfig") && !x.ns().equals(FERRY_NS)) {
                    warn("VirtualHardwareSection: vendor element " + x.name() + " not mapped");
                }
            }
            Map<String, String> meta = metadata(vhs, config);
            String os = "";
            Section.OperatingSystemSection oss = vs.section(Section.OperatingSystemSection.class);
            if (oss != null) {
                os = OsTypes.name(oss.id());
                String vmwOs = oss.x().attributes().get(XmlNode.clark(Cim.VMW, "osType"));
                if (vmwOs != null) {
                    meta.put("ovf.vmw.osType", vmwOs);
                }
                if (oss.description() != null && !oss.description().text().isEmpty()) {
                    meta.put("ovf.os.description", oss.description().text());
                }
            } else {
                warn("no OperatingSystemSection: OS type unknown");
            }
            VmSpec.HaPolicy ha = VmSpec.HaPolicy.NONE;
            Workload workload = null;
            NumaSpec numa = numaHint(vhs, vcpus, memory);
            XmlNode ferry = ferryElement();
            if (ferry != null) {
                String h = ferry.attr("", "ha");
                if (h != null) {
                    try {
                        ha = VmSpec.HaPolicy.valueOf(h);
                    } catch (IllegalArgumentException ex) {
                        errors.add("ferry:VirtualMachine ha=\"" + h + "\" at " + ferry.at() + " is not NONE or RESTART");
                    }
                }
                for (XmlNode c : ferry.children()) {
                    try {
                        if (c.name().equals("Workload")) {
                            workload = VmSpecJson.read(c.text().getBytes(StandardCharsets.UTF_8), Workload.class, c.at().toString(), true);
                        } else if (c.name().equals("Numa")) {
                            numa = VmSpecJson.read(c.text().getBytes(StandardCharsets.UTF_8), NumaSpec.class, c.at().toString(), true);
                        }
                    } catch (CoreException ex) {
                        errors.add("ferry:" + c.name() + ": " + ex.getMessage());
                    }
                }
            }
            for (XmlNode x : vs.x().elements()) {
                if (!x.ns().equals(FERRY_NS)) {
                    warn("vendor element " + x.name() + (x.ns().isEmpty() ? "" : " {" + x.ns() + "}") + " not mapped");
                }
            }
            String name = name();
            if (!errors.isEmpty()) {
                throw new OvfException(OvfException.Kind.MAPPING, where + " cannot become a Ferry VM:\n  " + String.join("\n  ", errors));
            }
            try {
                VmSpec spec = new VmSpec(UUID.randomUUID(), name, vcpus, memory, workload, numa, disks, nics, ha, os, meta);
                return new Mapped(vs.id(), spec, warnings, diskIdByName);
            } catch (IllegalArgumentException ex) {
                throw new OvfException(OvfException.Kind.MAPPING, where + " cannot become a Ferry VM: " + ex.getMessage(), ex);
            }
        }

        private List<Section> allSections() {
            List<Section> all = new ArrayList<>(e.sections());
            all.addAll(vs.sections());
            return all;
        }

        private Section.VirtualHardwareSection chooseHardware(List<Section.VirtualHardwareSection> hw) {
            if (hw.size() == 1) {
                return hw.get(0);
            }
            for (Section.VirtualHardwareSection h : hw) {
                for (String t : h.systemTypes()) {
                    if (t.startsWith("ferry")) {
                        return h;
                    }
                }
            }
            warn(hw.size() + " VirtualHardwareSections: the first (" + String.join(" ", hw.get(0).systemTypes()) + ") is used");
            return hw.get(0);
        }

        private XmlNode ferryElement() {
            List<XmlNode> candidates = new ArrayList<>(vs.x().elements());
            for (Section.VirtualHardwareSection h : vs.sectionsOf(Section.VirtualHardwareSection.class)) {
                candidates.addAll(h.x().elements());
            }
            for (XmlNode x : candidates) {
                if (x.ns().equals(FERRY_NS) && x.name().equals("VirtualMachine")) {
                    return x;
                }
            }
            return null;
        }

        private String name() {
            String raw = !vs.name().isEmpty() ? vs.name() : vs.id() == null ? "" : vs.id();
            String n = raw.replaceAll("[^A-Za-z0-9._-]+", "-").replaceAll("^[^A-Za-z0-9]+", "");
            if (n.length() > 64) {
                n = n.substring(0, 64);
            }
            if (n.isEmpty()) {
                n = "imported-vm";
            }
            if (!n.equals(raw)) {
                warn("name '" + raw + "' is not a Ferry VM name: '" + n + "' is used");
            }
            return n;
        }

        private int vcpus(List<Item> items) {
            for (Item i : items) {
                if (i.resourceType() == Cim.PROCESSOR) {
                    String q = i.get("VirtualQuantity");
                    if (q.isEmpty()) {
                        warn(i.describe() + " has no VirtualQuantity: 1 vCPU");
                        return 1;
                    }
                    try {
                        int n = Integer.parseInt(q);
                        if (n < 1 || n > VmSpec.MAX_VCPUS) {
                            errors.add(i.describe() + " asks for " + n + " vCPUs; Ferry runs 1.." + VmSpec.MAX_VCPUS);
                            return 1;
                        }
                        return n;
                    } catch (NumberFormatException ex) {
                        errors.add(i.describe() + " VirtualQuantity '" + q + "' is not a number");
                        return 1;
                    }
                }
            }
            warn("no Processor Item: 1 vCPU");
            return 1;
        }

        private long memory(List<Item> items) {
            for (Item i : items) {
                if (i.resourceType() == Cim.MEMORY) {
                    String q = i.get("VirtualQuantity");
                    String units = i.get("AllocationUnits");
                    if (units.isEmpty()) {
                        units = "byte * 2^20";
                        warn(i.describe() + " has no AllocationUnits: MiB assumed");
                    }
                    try {
                        long bytes = Units.bytes(q, units);
                        long rounded = (bytes + 4095) & ~4095L;
                        if (rounded != bytes) {
                            warn("memory " + bytes + " bytes rounded up to " + rounded + " (4 KiB pages)");
                        }
                        if (rounded < (1L << 20) || rounded > (1L << 40)) {
                            errors.add(i.describe() + " memory " + bytes + " bytes is outside Ferry's 1 MiB..1 TiB");
                            return 1L << 20;
                        }
                        return rounded;
                    } catch (IllegalArgumentException ex) {
                        errors.add(i.describe() + " at " + i.x().at() + ": memory " + ex.getMessage());
                        return 1L << 20;
                    }
                }
            }
            errors.add("no Memory Item (ResourceType 4): the VM's memory size is unknown");
            return 1L << 20;
        }

        private void disk(Item i, Map<String, Item> byId, Map<String, String> props, List<DiskSpec> disks,
                Map<String, String> diskIdByName, Set<String> names) {
            boolean cd = i.resourceType() == Cim.CD || i.resourceType() == Cim.DVD;
            String bus = bus(byId.get(i.get("Parent")));
            List<String> hrs = i.all("HostResource");
            String hr = hrs.isEmpty() ? "" : hrs.get(0);
            if (hr.isEmpty()) {
                if (!cd) {
                    warn(i.describe() + " has no HostResource: not mapped");
                }
                else {
                    warn(i.describe() + " is an empty CD/DVD drive: not mapped");
                }
                return;
            }
            HostRef ref = HostRef.parse(hr);
            VirtualDisk d = null;
            FileRef file = null;
            if (ref != null && ref.disk()) {
                d = e.disk(ref.id());
            } else if (ref != null) {
                file = e.file(ref.id());
            } else {
                // oVirt names the disk by its File href
                for (VirtualDisk vd : e.disks()) {
                    if (vd.fileRef().equals(hr) || hr.endsWith("/" + vd.diskId())) {
                        d = vd;
                        warn(i.describe() + " HostResource '" + hr + "' read as Disk " + vd.diskId() + " (oVirt)");
                    }
                }
            }
            if (d == null && file == null) {
                errors.add(i.describe() + " at " + i.x().at() + ": HostResource '" + hr + "' names no Disk or File");
                return;
            }
            String diskId = d != null ? d.diskId() : file.id();
            String label = ferryElement() != null && !i.elementName().isEmpty() ? i.elementName() : diskId;
            String name = uniqueName(label.replaceAll("[^A-Za-z0-9._-]+", "-").replaceAll("^[^A-Za-z0-9]+", ""), cd ? "cdrom" : "disk", names);
            long capacity;
            if (d != null) {
                if (!d.parentRef().isEmpty()) {
                    errors.add("Disk " + d.diskId() + " is a delta of " + d.parentRef() + " (ovf:parentRef): Ferry imports whole disks only");
                    return;
                }
                if (d.capacity().isEmpty()) {
                    String lun = d.x().attributes().get(XmlNode.clark(OvfVersion.V1.namespaces().get(1), "disk_storage_type"));
                    errors.add("Disk " + d.diskId() + " at " + d.x().at() + " has no capacity"
                            + (lun != null ? " (a " + lun + " passed through by oVirt: not a disk image)" : ""));
                    return;
                }
                try {
                    capacity = Units.capacityBytes(d, props);
                } catch (IllegalArgumentException ex) {
                    errors.add("Disk " + d.diskId() + " at " + d.x().at() + ": " + ex.getMessage());
                    return;
                }
            } else {
                capacity = Math.max(0, file.size());
            }
            String path = o.diskPaths().getOrDefault(diskId, "");
            // VMDK, qcow2 and raw disks are imported as raw; VHD is kept as it is (not converted)
            DiskImages.Format f = d == null ? DiskImages.Format.RAW : DiskImages.formatOf(d.format());
            String format = f == DiskImages.Format.VHD ? "vhd" : "raw";
            disks.add(new DiskSpec(name, path, capacity, format, cd ? (bus.equals("virtio") ? "sata" : bus) : bus, cd));
            diskIdByName.put(name, diskId);
        }

        private String uniqueName(String base, String fallback, Set<String> names) {
            String n = base.isEmpty() ? fallback : base;
            if (n.length() > 60) {
                n = n.substring(0, 60);
            }
            String c = n;
            for (int k = 1; !names.add(c); k++) {
                c = n + "-" + k;
            }
            return c;
        }

        private String bus(Item controller) {
            if (controller == null) {
                return "virtio";
            }
            String sub = controller.get("ResourceSubType").toLowerCase(Locale.ROOT);
            switch (controller.resourceType()) {
                case Cim.IDE:
                    return "ide";
                case Cim.SCSI:
                    return sub.contains("virtio") ? "virtio" : "scsi";
                case Cim.OTHER_STORAGE:
                    if (sub.contains("ahci") || sub.contains("sata")) {
                        return "sata";
                    }
                    if (sub.contains("nvme")) {
                        warn("NVMe controller " + controller.describe() + ": disks on it are attached as virtio");
                    }
                    return "virtio";
                default:
                    return "virtio";
            }
        }

        private void nic(Item i, List<NicSpec> nics) {
            String network = i.get("Connection");
            if (network.isEmpty()) {
                network = "default";
                warn(i.describe() + " has no Connection: attached to network 'default'");
            }
            String mac = i.get("Address");
            if (!mac.matches("([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}")) {
                if (!mac.isEmpty()) {
                    warn(i.describe() + " Address '" + mac + "' is not a MAC address: a new one is generated");
                }
                mac = "";
            }
            String sub = i.get("ResourceSubType").toLowerCase(Locale.ROOT);
            String model = sub.contains("vmxnet3") ? "vmxnet3" : sub.contains("e1000e") ? "e1000e" : sub.contains("e1000") ? "e1000"
                    : sub.contains("pcnet") ? "pcnet" : sub.contains("virtio") || sub.isEmpty() ? "virtio" : sub.replaceAll("[^a-z0-9]", "");
            nics.add(new NicSpec("nic" + nics.size(), network, mac.replace('-', ':'), model));
        }

        private NumaSpec numaHint(Section.VirtualHardwareSection vhs, int vcpus, long memory) {
            for (XmlNode x : vhs.x().elements()) {
                if (x.name().equals("ExtraConfig") || x.name().equals("Config")) {
                    String key = x.attr(Cim.VMW, "key");
                    String value = x.attr(Cim.VMW, "value");
                    if ("numa.vcpu.maxPerVirtualNode".equals(key) && value != null) {
                        try {
                            int per = Integer.parseInt(value.strip());
                            int nodes = Math.max(1, (vcpus + per - 1) / per);
                            if (nodes > 1) {
                                warn("guest NUMA hint numa.vcpu.maxPerVirtualNode=" + per + ": " + nodes + " guest NUMA nodes requested");
                                return new NumaSpec(nodes, List.of(), NumaSpec.MemoryMode.PREFERRED, NumaSpec.CpuPolicy.SHARED,
                                        NumaSpec.ThreadPolicy.PREFER, 4, -1);
                            }
                        } catch (NumberFormatException ex) {
                            warn("numa.vcpu.maxPerVirtualNode '" + value + "' is not a number: ignored");
                        }
                    }
                }
            }
            return NumaSpec.DEFAULT;
        }

        private Map<String, String> metadata(Section.VirtualHardwareSection vhs, String config) {
            Map<String, String> m = new TreeMap<>();
            m.put("ovf.virtualSystemId", vs.id() == null ? "" : vs.id());
            if (!vhs.systemTypes().isEmpty()) {
                m.put("ovf.virtualSystemType", String.join(" ", vhs.systemTypes()));
            }
            if (config != null) {
                m.put("ovf.deploymentOption", config);
            }
            Section.ProductSection p = vs.section(Section.ProductSection.class);
            if (p != null) {
                put(m, "ovf.product", p.product().text());
                put(m, "ovf.vendor", p.vendor().text());
                put(m, "ovf.version", p.version());
            }
            Section.AnnotationSection a = vs.section(Section.AnnotationSection.class);
            if (a != null && a.annotation() != null) {
                put(m, "ovf.annotation", a.annotation().text());
            }
            return m;
        }

        private static void put(Map<String, String> m, String k, String v) {
            if (v != null && !v.isEmpty()) {
                m.put(k, v.length() > 1024 ? v.substring(0, 1024) : v);
            }
        }
    }
}
