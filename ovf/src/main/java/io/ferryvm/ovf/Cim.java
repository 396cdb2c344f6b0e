package io.ferryvm.ovf;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** CIM namespaces and the ResourceType value map (DSP8023 via CIM_ResourceAllocationSettingData). */
final class Cim {
    static final String NS_PREFIX = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/";
    static final String RASD = NS_PREFIX + "CIM_ResourceAllocationSettingData";
    static final String VSSD = NS_PREFIX + "CIM_VirtualSystemSettingData";
    static final String SASD = NS_PREFIX + "CIM_StorageAllocationSettingData";
    static final String EPASD = NS_PREFIX + "CIM_EthernetPortAllocationSettingData";
    static final String CIM_COMMON = "http://schemas.dmtf.org/wbem/wscim/1/common";
    static final String XML_NS = "http://www.w3.org/XML/1998/namespace";
    static final String VMW = "http://www.vmware.com/schema/ovf";
    static final String ENV = "http://schemas.dmtf.org/ovf/environment/1";

    // Also VirtualBox's ".xsd"-suffixed URIs and the DMTF example's "cim2608 schema" typo: match the class, not the exact URI.
    private static final Pattern CIM_CLASS = Pattern.compile("^http://schemas\\.dmtf\\.org/wbem/wscim/1/cim[^/]*/2/(CIM_\\w+?)(\\.xsd)?$");

    static final int OTHER = 1;
    static final int PROCESSOR = 3;
    static final int MEMORY = 4;
    static final int IDE = 5;
    static final int SCSI = 6;
    static final int FC = 7;
    static final int ISCSI = 8;
    static final int ETHERNET = 10;
    static final int OTHER_NETWORK = 11;
    static final int FLOPPY = 14;
    static final int CD = 15;
    static final int DVD = 16;
    static final int DISK = 17;
    static final int STORAGE_EXTENT = 19;
    static final int OTHER_STORAGE = 20;
    static final int SERIAL = 21;
    static final int PARALLEL = 22;
    static final int USB = 23;
    static final int GRAPHICS = 24;
    static final int LOGICAL_DISK = 31;
    static final int SOUND_VBOX = 35;

    static final Map<Integer, String> RESOURCE_TYPES = Map.ofEntries(
            Map.entry(1, "Other"), Map.entry(2, "Computer System"), Map.entry(3, "Processor"), Map.entry(4, "Memory"),
            Map.entry(5, "IDE Controller"), Map.entry(6, "Parallel SCSI HBA"), Map.entry(7, "FC HBA"), Map.entry(8, "iSCSI HBA"),
            Map.entry(9, "IB HCA"), Map.entry(10, "Ethernet Adapter"), Map.entry(11, "Other Network Adapter"),
            Map.entry(12, "I/O Slot"), Map.entry(13, "I/O Device"), Map.entry(14, "Floppy Drive"), Map.entry(15, "CD Drive"),
            Map.entry(16, "DVD drive"), Map.entry(17, "Disk Drive"), Map.entry(18, "Tape Drive"), Map.entry(19, "Storage Extent"),
            Map.entry(20, "Other storage device"), Map.entry(21, "Serial port"), Map.entry(22, "Parallel port"),
            Map.entry(23, "USB Controller"), Map.entry(24, "Graphics controller"), Map.entry(25, "IEEE 1394 Controller"),
            Map.entry(26, "Partitionable Unit"), Map.entry(27, "Base Partitionable Unit"), Map.entry(28, "Power"),
            Map.entry(29, "Cooling Capacity"), Map.entry(30, "Ethernet Switch Port"), Map.entry(31, "Logical Disk"),
            Map.entry(32, "Storage Volume"), Map.entry(33, "Ethernet Connection"));

    private Cim() {}

    /** The CIM class a namespace URI names ("CIM_ResourceAllocationSettingData"), or null. */
    static String cimClass(String ns) {
        Matcher m = CIM_CLASS.matcher(ns);
        return m.matches() ? m.group(1) : null;
    }

    static boolean isCanonical(String ns) {
        return ns.equals(RASD) || ns.equals(VSSD) || ns.equals(SASD) || ns.equals(EPASD);
    }

    static String resourceTypeName(int type) {
        String n = RESOURCE_TYPES.get(type);
        if (n != null) {
            return n;
        }
        if (type == SOUND_VBOX) {
            return "sound card (VirtualBox, not CIM)";
        }
        return type >= 32768 ? "vendor-specific" : type >= 34 ? "DMTF-reserved" : "unknown";
    }
}
