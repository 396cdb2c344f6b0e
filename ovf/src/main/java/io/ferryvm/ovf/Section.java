package io.ferryvm.ovf;

import java.util.List;

/**
 * An OVF section. Every section has an Info message and extras (ovf:required, unmodelled attributes and
 * children). Sections Ferry does not model, vendor ones included, are kept whole as {@link UnknownSection}.
 */
public sealed interface Section {
    Msg info();

    Extras x();

    default boolean required() {
        return x().isRequired();
    }

    /** The element name the section is written with. */
    String element();

    record DiskSection(Msg info, List<VirtualDisk> disks, Extras x) implements Section {
        public DiskSection {
            disks = List.copyOf(disks);
        }

        @Override
        public String element() {
            return "DiskSection";
        }
    }

    record NetworkSection(Msg info, List<Network> networks, Extras x) implements Section {
        public NetworkSection {
            networks = List.copyOf(networks);
        }

        @Override
        public String element() {
            return "NetworkSection";
        }
    }

    record DeploymentOptionSection(Msg info, List<Configuration> configurations, Extras x) implements Section {
        public DeploymentOptionSection {
            configurations = List.copyOf(configurations);
        }

        @Override
        public String element() {
            return "DeploymentOptionSection";
        }

        /** The default configuration: the one marked ovf:default, else the first (DSP0243). */
        public String defaultId() {
            for (Configuration c : configurations) {
                if (c.isDefault()) {
                    return c.id();
                }
            }
            return configurations.isEmpty() ? null : configurations.get(0).id();
        }
    }

    /** The guest OS: a CIM_OperatingSystem OsType code and optional version and description. */
    record OperatingSystemSection(Msg info, int id, String version, Msg description, Extras x) implements Section {
        @Override
        public String element() {
            return "OperatingSystemSection";
        }
    }

    /** Virtual hardware: System (its CIM properties as an Item), Items, and the ovf:transport list. */
    record VirtualHardwareSection(Msg info, String id, List<String> transports, Item system, List<Item> items, Extras x)
            implements Section {
        public VirtualHardwareSection {
            id = id == null ? "" : id;
            transports = List.copyOf(transports);
            items = List.copyOf(items);
        }

        @Override
        public String element() {
            return "VirtualHardwareSection";
        }

        /** VirtualSystemType values (the element may hold a space-separated list). */
        public List<String> systemTypes() {
            if (system == null || system.get("VirtualSystemType").isEmpty()) {
                return List.of();
            }
            return List.of(system.get("VirtualSystemType").split("\\s+"));
        }
    }

    record ProductSection(Msg info, String productClass, String instance, Msg product, Msg vendor, String version,
            String fullVersion, String productUrl, String vendorUrl, String appUrl, List<Property> properties, Extras x)
            implements Section {
        public ProductSection {
            productClass = productClass == null ? "" : productClass;
            instance = instance == null ? "" : instance;
            product = product == null ? Msg.EMPTY : product;
            vendor = vendor == null ? Msg.EMPTY : vendor;
            version = version == null ? "" : version;
            fullVersion = fullVersion == null ? "" : fullVersion;
            productUrl = productUrl == null ? "" : productUrl;
            vendorUrl = vendorUrl == null ? "" : vendorUrl;
            appUrl = appUrl == null ? "" : appUrl;
            properties = List.copyOf(properties);
        }

        @Override
        public String element() {
            return "ProductSection";
        }

        /** The full property name: class.key.instance without empty parts. */
        public String fullKey(Property p) {
            return (productClass.isEmpty() ? "" : productClass + ".") + p.key() + (instance.isEmpty() ? "" : "." + instance);
        }
    }

    record EulaSection(Msg info, Msg license, Extras x) implements Section {
        @Override
        public String element() {
            return "EulaSection";
        }
    }

    /** StartupSection/Item entries keep their attributes (ovf:id, order, startDelay, startAction...) as written. */
    record StartupSection(Msg info, List<XmlNode> entries, Extras x) implements Section {
        public StartupSection {
            entries = List.copyOf(entries);
        }

        @Override
        public String element() {
            return "StartupSection";
        }
    }

    record AnnotationSection(Msg info, Msg annotation, Extras x) implements Section {
        @Override
        public String element() {
            return "AnnotationSection";
        }
    }

    record ResourceAllocationSection(Msg info, List<Item> items, Extras x) implements Section {
        public ResourceAllocationSection {
            items = List.copyOf(items);
        }

        @Override
        public String element() {
            return "ResourceAllocationSection";
        }
    }

    record InstallSection(Msg info, int initialBootStopDelay, Extras x) implements Section {
        @Override
        public String element() {
            return "InstallSection";
        }
    }

    /** A section Ferry does not model (a vendor's, or a newer DMTF one), kept as written. */
    record UnknownSection(XmlNode node, Extras x) implements Section {
        @Override
        public Msg info() {
            for (XmlNode c : node.children()) {
                if (c.name().equals("Info")) {
                    return Msg.of(c.trimmedText());
                }
            }
            return Msg.EMPTY;
        }

        @Override
        public String element() {
            return node.name();
        }
    }
}
