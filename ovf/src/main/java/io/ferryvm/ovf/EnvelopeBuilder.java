package io.ferryvm.ovf;

import io.ferryvm.core.DiskSpec;
import io.ferryvm.core.NicSpec;
import io.ferryvm.core.VmSpec;
import io.ferryvm.core.VmSpecJson;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * VmSpec to Envelope for export. Hardware is written as plain Items even in 2.x (VMware Workstation
 * rejects StorageItem/EthernetPortItem, pitfall 5), with the controllers and device subtypes the target
 * platform knows; CIM properties are in schema (alphabetical) order. Ferry's own settings go in an
 * optional ferry:VirtualMachine element.
 */
final class EnvelopeBuilder {
    // Disk and CD Items carry the DiskSpec's name as ElementName: with the ferry:VirtualMachine element
    // present, an import names the disks by it (disk ids must be unique across VMs, names need not).

    /** A disk file written for export: which VM and disk it is, its href, size, populated bytes. */
    record DiskFile(String vm, String disk, String href, long size, long populated, boolean iso) {}

    private EnvelopeBuilder() {}

    static Envelope build(List<VmSpec> vms, OvfExporter.Target target, OvfVersion version, List<DiskFile> files) {
        String ovfNs = version.namespace();
        List<FileRef> refs = new ArrayList<>();
        List<VirtualDisk> disks = new ArrayList<>();
        Map<String, String> fileIds = new LinkedHashMap<>();
        Map<String, String> diskIds = new LinkedHashMap<>();
        int n = 1;
        for (DiskFile f : files) {
            // ids carry the disk's name, so an import gives the disks their names back
            String stem = vms.size() == 1 ? f.disk() : f.vm() + "-" + f.disk();
            String fileId = f.iso() ? stem : "file-" + stem;
            refs.add(new FileRef(fileId, f.href(), f.size(), "", 0, Extras.NONE));
            fileIds.put(f.vm() + "/" + f.disk(), fileId);
            if (!f.iso()) {
                String diskId = stem;
                diskIds.put(f.vm() + "/" + f.disk(), diskId);
                DiskSpec ds = find(vms, f.vm(), f.disk());
                disks.add(new VirtualDisk(diskId, Long.toString(ds.capacityBytes()), "byte", fileId, VirtualDisk.FORMAT_STREAM_OPTIMIZED,
                        f.populated(), "", Extras.NONE));
            }
            n++;
        }
        Set<String> networks = new LinkedHashSet<>();
        for (VmSpec vm : vms) {
            for (NicSpec nic : vm.nics()) {
                networks.add(nic.network());
            }
        }
        List<Section> sections = new ArrayList<>();
        if (!disks.isEmpty()) {
            sections.add(new Section.DiskSection(Msg.of("Virtual disk information"), disks, Extras.NONE));
        }
        if (!networks.isEmpty()) {
            List<Network> nets = new ArrayList<>();
            for (String net : networks) {
                nets.add(new Network(net, Msg.of("The " + net + " network"), Extras.NONE));
            }
            sections.add(new Section.NetworkSection(Msg.of("The list of logical networks"), nets, Extras.NONE));
        }
        List<Content> systems = new ArrayList<>();
        for (VmSpec vm : vms) {
            systems.add(system(vm, target, ovfNs, fileIds, diskIds));
        }
        Content content = systems.size() == 1 ? systems.get(0)
                : new Content.VirtualSystemCollection("ferry-collection", Msg.of("VMs exported together by Ferry"), "ferry-collection", List.of(),
                        systems, Extras.NONE);
        Map<String, String> ns = new LinkedHashMap<>();
        ns.put("ovf", ovfNs);
        ns.put("ferry", VmSpecMapper.FERRY_NS);
        if (target == OvfExporter.Target.VMWARE) {
            ns.put("vmw", Cim.VMW);
        }
        return new Envelope(version, version == OvfVersion.V2 ? "2.0" : "1.0", "", refs, sections, content, List.of(), ns, Extras.NONE);
    }

    private static DiskSpec find(List<VmSpec> vms, String vm, String disk) {
        for (VmSpec v : vms) {
            if (v.name().equals(vm)) {
                for (DiskSpec d : v.disks()) {
                    if (d.name().equals(disk)) {
                        return d;
                    }
                }
            }
        }
        throw new IllegalArgumentException("no disk " + disk + " in VM " + vm);
    }

    private static Item item(Location at, Map<String, String> props) {
        List<Item.Rasd> r = new ArrayList<>();
        props.forEach((k, v) -> r.add(new Item.Rasd(k, v, at)));
        return new Item(Item.Kind.ITEM, r, List.of(), "", Extras.NONE);
    }

    private static Content.VirtualSystem system(VmSpec vm, OvfExporter.Target target, String ovfNs, Map<String, String> fileIds,
            Map<String, String> diskIds) {
        List<Item> items = new ArrayList<>();
        int id = 1;
        items.add(item(Location.NONE, ordered("AllocationUnits", "hertz * 10^6", "Description", "Number of Virtual CPUs",
                "ElementName", vm.vcpus() + " virtual CPU(s)", "InstanceID", Integer.toString(id++), "ResourceType", "3",
                "VirtualQuantity", Integer.toString(vm.vcpus()))));
        boolean mib = vm.memoryBytes() % (1 << 20) == 0;
        items.add(item(Location.NONE, ordered("AllocationUnits", mib ? "byte * 2^20" : "byte * 2^10", "Description", "Memory Size",
                "ElementName", (vm.memoryBytes() >> 20) + "MB of memory", "InstanceID", Integer.toString(id++), "ResourceType", "4",
                "VirtualQuantity", Long.toString(mib ? vm.memoryBytes() >> 20 : vm.memoryBytes() >> 10))));
        Map<String, Integer> controllers = new LinkedHashMap<>();
        Map<String, Integer> units = new LinkedHashMap<>();
        List<Item> devices = new ArrayList<>();
        for (DiskSpec d : vm.disks()) {
            String key = vm.name() + "/" + d.name();
            String bus = controllerBus(d.bus(), target);
            Integer ctl = controllers.get(bus);
            if (ctl == null) {
                ctl = id++;
                controllers.put(bus, ctl);
                items.add(controller(bus, ctl, controllers.size() - 1, target));
            }
            int unit = units.merge(bus, 1, Integer::sum) - 1;
            if (d.readOnly()) {
                devices.add(item(Location.NONE, ordered("AddressOnParent", Integer.toString(unit), "ElementName", d.name(),
                        "HostResource", "ovf:/file/" + fileIds.get(key), "InstanceID", Integer.toString(id++), "Parent", Integer.toString(ctl),
                        "ResourceType", "15")));
            } else {
                devices.add(item(Location.NONE, ordered("AddressOnParent", Integer.toString(unit), "ElementName", d.name(),
                        "HostResource", "ovf:/disk/" + diskIds.get(key), "InstanceID", Integer.toString(id++), "Parent", Integer.toString(ctl),
                        "ResourceType", "17")));
            }
        }
        items.addAll(devices);
        int slot = 0;
        for (NicSpec nic : vm.nics()) {
            Map<String, String> p = new LinkedHashMap<>();
            if (!nic.mac().isEmpty()) {
                p.put("Address", nic.mac());
            }
            p.put("AddressOnParent", Integer.toString(7 + slot++));
            p.put("AutomaticAllocation", "true");
            p.put("Connection", nic.network());
            p.put("Description", nicSubtype(nic.model(), target) + " ethernet adapter on \"" + nic.network() + "\"");
            p.put("ElementName", nic.name());
            p.put("InstanceID", Integer.toString(id++));
            p.put("ResourceSubType", nicSubtype(nic.model(), target));
            p.put("ResourceType", "10");
            items.add(item(Location.NONE, p));
        }
        Item system = item(Location.NONE, ordered("ElementName", "Virtual Hardware Family", "InstanceID", "0",
                "VirtualSystemIdentifier", vm.name(), "VirtualSystemType", target.systemType()));
        List<Section> sections = new ArrayList<>();
        int os = OsTypes.code(vm.osType());
        Map<String, String> osAttrs = new LinkedHashMap<>();
        String vmwOs = vm.metadata().get("ovf.vmw.osType");
        if (target == OvfExporter.Target.VMWARE && vmwOs != null) {
            osAttrs.put(XmlNode.clark(Cim.VMW, "osType"), vmwOs);
        }
        sections.add(new Section.OperatingSystemSection(Msg.of("The kind of installed guest operating system"), os, "",
                Msg.of(vm.osType().isEmpty() ? "Unknown" : vm.osType()), new Extras(null, osAttrs, List.of(), Location.NONE)));
        // In the VirtualHardwareSection, whose schema type ends with xs:any ##other (where ovftool puts vmw:Config),
        // the extension keeps the descriptor valid against DSP8023.
        sections.add(new Section.VirtualHardwareSection(Msg.of("Virtual hardware requirements"), "", List.of(), system, items,
                new Extras(null, Map.of(), List.of(ferryElement(vm, ovfNs)), Location.NONE)));
        String product = vm.metadata().get("ovf.product");
        if (product != null) {
            sections.add(new Section.ProductSection(Msg.of("Information about the installed software"), "", "", Msg.of(product),
                    Msg.of(vm.metadata().getOrDefault("ovf.vendor", "")), vm.metadata().getOrDefault("ovf.version", ""), "", "", "", "",
                    List.of(), Extras.NONE));
        }
        String annotation = vm.metadata().get("ovf.annotation");
        if (annotation != null) {
            sections.add(new Section.AnnotationSection(Msg.of("A human-readable annotation"), Msg.of(annotation), Extras.NONE));
        }
        return new Content.VirtualSystem(vm.name(), Msg.of("A virtual machine exported by Ferry"), vm.name(), sections, Extras.NONE);
    }

    /** Ferry's own settings: HA policy, workload and NUMA request as JSON (ovf:required="false": others skip it). */
    private static XmlNode ferryElement(VmSpec vm, String ovfNs) {
        Map<String, String> fattrs = new LinkedHashMap<>();
        fattrs.put(XmlNode.clark(ovfNs, "required"), "false");
        fattrs.put("ha", vm.ha().name());
        List<XmlNode> fkids = List.of(
                new XmlNode(VmSpecMapper.FERRY_NS, "Workload", "ferry", Map.of(), json(vm.workload()), List.of(), Location.NONE),
                new XmlNode(VmSpecMapper.FERRY_NS, "Numa", "ferry", Map.of(), json(vm.numa()), List.of(), Location.NONE));
        return new XmlNode(VmSpecMapper.FERRY_NS, "VirtualMachine", "ferry", fattrs, "", fkids, Location.NONE);
    }

    private static String json(Object o) {
        return new String(VmSpecJson.toJson(o), StandardCharsets.UTF_8).replaceAll("\\s*\n\\s*", " ");
    }

    private static Map<String, String> ordered(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    /** The controller a disk bus becomes on the target (VMware has no virtio: SCSI lsilogic there). */
    private static String controllerBus(String bus, OvfExporter.Target target) {
        String b = bus.toLowerCase(Locale.ROOT);
        if (b.equals("virtio") && target != OvfExporter.Target.FERRY) {
            return target == OvfExporter.Target.VIRTUALBOX ? "sata" : "scsi";
        }
        return b.equals("ide") || b.equals("sata") || b.equals("scsi") || b.equals("virtio") ? b : "scsi";
    }

    private static Item controller(String bus, int id, int index, OvfExporter.Target target) {
        return switch (bus) {
            case "ide" -> item(Location.NONE, ordered("Address", Integer.toString(index), "Description", "IDE Controller", "ElementName",
                    "IDE controller " + index, "InstanceID", Integer.toString(id), "ResourceSubType", "PIIX4", "ResourceType", "5"));
            case "sata" -> item(Location.NONE, ordered("Address", Integer.toString(index), "Description", "SATA Controller", "ElementName",
                    "SATA controller " + index, "InstanceID", Integer.toString(id), "ResourceSubType",
                    target == OvfExporter.Target.VMWARE ? "vmware.sata.ahci" : "AHCI", "ResourceType", "20"));
            case "virtio" -> item(Location.NONE, ordered("Address", Integer.toString(index), "Description", "VirtIO block controller",
                    "ElementName", "virtio controller " + index, "InstanceID", Integer.toString(id), "ResourceSubType", "virtio", "ResourceType", "20"));
            default -> item(Location.NONE, ordered("Address", Integer.toString(index), "Description", "SCSI Controller", "ElementName",
                    "SCSI controller " + index, "InstanceID", Integer.toString(id), "ResourceSubType", "lsilogic", "ResourceType", "6"));
        };
    }

    private static String nicSubtype(String model, OvfExporter.Target target) {
        String m = model.toLowerCase(Locale.ROOT);
        switch (m) {
            case "vmxnet3":
                return target == OvfExporter.Target.VIRTUALBOX ? "E1000" : "VmxNet3";
            case "e1000":
                return "E1000";
            case "e1000e":
                return target == OvfExporter.Target.VIRTUALBOX ? "E1000" : "E1000e";
            case "pcnet":
                return "PCNet32";
            case "virtio":
                return target == OvfExporter.Target.FERRY ? "virtio" : target == OvfExporter.Target.VMWARE ? "VmxNet3" : "E1000";
            default:
                return target == OvfExporter.Target.FERRY ? m : "E1000";
        }
    }
}
