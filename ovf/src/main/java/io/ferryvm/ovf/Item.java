package io.ferryvm.ovf;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One hardware Item of a VirtualHardwareSection (or of a ResourceAllocationSection): its kind (1.x Item, 2.x
 * StorageItem or EthernetPortItem), the CIM properties in the order written (name without prefix, value,
 * location), the configurations that select it (empty: all), its ovf:bound (min/normal/max or ""), and extras.
 */
public record Item(Kind kind, List<Rasd> properties, List<String> configurations, String bound, Extras x) {

    /** The element an Item is written as, with the CIM class its properties belong to. */
    public enum Kind {
        ITEM("Item", "CIM_ResourceAllocationSettingData", "rasd"),
        STORAGE("StorageItem", "CIM_StorageAllocationSettingData", "sasd"),
        ETHERNET("EthernetPortItem", "CIM_EthernetPortAllocationSettingData", "epasd");

        final String element;
        final String cimClass;
        final String prefix;

        Kind(String element, String cimClass, String prefix) {
            this.element = element;
            this.cimClass = cimClass;
            this.prefix = prefix;
        }

        public String namespace() {
            return Cim.NS_PREFIX + cimClass;
        }
    }

    /** One CIM property of an Item. */
    public record Rasd(String name, String value, Location at) {
        public Rasd {
            value = value == null ? "" : value;
            at = at == null ? Location.NONE : at;
        }
    }

    public Item {
        properties = List.copyOf(properties);
        configurations = List.copyOf(configurations);
        bound = bound == null ? "" : bound;
        x = x == null ? Extras.NONE : x;
    }

    /** The first value of a property, or "" (InstanceID also matches the common misspelling InstanceId). */
    public String get(String name) {
        for (Rasd r : properties) {
            if (r.name.equals(name)) {
                return r.value.strip();
            }
        }
        if (name.equals("InstanceID")) {
            for (Rasd r : properties) {
                if (r.name.equalsIgnoreCase(name)) {
                    return r.value.strip();
                }
            }
        }
        return "";
    }

    public Rasd property(String name) {
        for (Rasd r : properties) {
            if (r.name.equalsIgnoreCase(name)) {
                return r;
            }
        }
        return null;
    }

    public List<String> all(String name) {
        List<String> out = new ArrayList<>();
        for (Rasd r : properties) {
            if (r.name.equals(name)) {
                out.add(r.value.strip());
            }
        }
        return out;
    }

    public String instanceId() {
        return get("InstanceID");
    }

    /** ResourceType as a number, or -1 when absent or not a number. */
    public int resourceType() {
        try {
            return Integer.parseInt(get("ResourceType"));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    public String elementName() {
        String n = get("ElementName");
        return n.isEmpty() ? get("Caption") : n;
    }

    public boolean selectedBy(String configuration) {
        return configurations.isEmpty() || configuration == null || configurations.contains(configuration);
    }

    /** A short description for messages: "Item 'Hard Disk 1' (InstanceID 6, ResourceType 17)". */
    public String describe() {
        return String.format(Locale.ROOT, "%s '%s' (InstanceID %s, ResourceType %s)", kind.element, elementName(),
                instanceId().isEmpty() ? "?" : instanceId(), get("ResourceType").isEmpty() ? "?" : get("ResourceType"));
    }
}
