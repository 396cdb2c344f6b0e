package io.ferryvm.ovf;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a descriptor into an {@link Envelope}.
 *
 * <p>Implementation notes: namespaces are compared by URI. Elements of the envelope's own OVF namespace are
 * modelled; elements in no namespace are accepted as OVF with a warning (oVirt writes References and
 * sections unqualified); an element of a different OVF version's namespace is an error (VMware's
 * invalid_version test). The 0.9 and oVirt spelling {@code Section xsi:type="ovf:DiskSection_Type"} and
 * {@code Content xsi:type="ovf:VirtualSystem_Type"} is understood. Anything else, vendor sections and
 * elements included, is kept verbatim in the model, so writing it back loses nothing.
 */
public final class EnvelopeReader {
    /** The envelope and the reader's findings (warnings about leniency applied; never errors: those throw). */
    public record Result(Envelope envelope, List<Finding> findings) {}

    private static final Set<String> VHS_ITEMS = Set.of("Item", "StorageItem", "EthernetPortItem");

    private final String source;
    private final List<Finding> findings = new ArrayList<>();
    private List<String> ovf;
    private String ovfNs;
    private boolean warnedNoNamespace;
    private final Set<String> warnedCim = new java.util.HashSet<>();

    private EnvelopeReader(String source) {
        this.source = source;
    }

    /** Reads with the default limits. */
    public static Result read(byte[] descriptor, String source) {
        return read(descriptor, source, Limits.DEFAULT);
    }

    public static Result read(byte[] descriptor, String source, Limits limits) {
        SecureXml.Parsed p = SecureXml.parse(descriptor, source, limits);
        EnvelopeReader r = new EnvelopeReader(source);
        r.findings.addAll(p.warnings());
        Envelope e = r.envelope(p.root(), p.rootNamespaces());
        return new Result(e, List.copyOf(r.findings));
    }

    private Envelope envelope(XmlNode root, Map<String, String> declared) {
        OvfVersion v = OvfVersion.ofNamespace(root.ns());
        if (!root.name().equals("Envelope") || v == null) {
            String what = root.ns().matches("http://schemas\\.dmtf\\.org/ovf/envelope/\\d+/?")
                    ? "OVF envelope namespace " + root.ns() + " is a version Ferry does not read (0.9, 1.x and 2.x are)"
                    : "root element {" + root.ns() + "}" + root.name() + " is not an OVF Envelope (namespaces "
                            + String.join(", ", OvfVersion.V1.namespaces()) + ", " + OvfVersion.V2.namespace() + ", "
                            + OvfVersion.V0_9.namespace() + ")";
            throw new OvfException(OvfException.Kind.UNSUPPORTED, root.at() + ": " + what);
        }
        ovfNs = root.ns();
        ovf = List.of(root.ns(), "");
        List<FileRef> refs = new ArrayList<>();
        List<Section> sections = new ArrayList<>();
        List<StringsBundle> strings = new ArrayList<>();
        List<XmlNode> extras = new ArrayList<>();
        Content content = null;
        for (XmlNode c : root.children()) {
            String kind = ovfKind(c);
            if (kind == null) {
                if (c.name().endsWith("Section")) {
                    sections.add(unknown(c, c.name()));
                } else {
                    extras.add(c);
                }
                continue;
            }
            switch (kind) {
                case "References" -> {
                    for (XmlNode f : c.children()) {
                        if (isOvf(f, "File")) {
                            refs.add(file(f));
                        } else {
                            findings.add(Finding.warning(f.at(), "unexpected element " + f.name() + " in References: ignored"));
                        }
                    }
                }
                case "Strings" -> strings.add(strings(c));
                case "VirtualSystem", "VirtualSystemCollection" -> {
                    if (content != null) {
                        throw invalid(c.at(), "a second Content element: an Envelope holds exactly one VirtualSystem or VirtualSystemCollection");
                    }
                    content = content(c, kind);
                }
                default -> {
                    if (kind.endsWith("Section")) {
                        sections.add(section(c, kind));
                    } else {
                        findings.add(Finding.warning(c.at(), "unknown OVF element " + c.name() + " in Envelope: kept"));
                        extras.add(c);
                    }
                }
            }
        }
        Map<String, String> attrs = new LinkedHashMap<>(root.attributes());
        String versionAttr = attrs.remove(XmlNode.clark(ovfNs, "version"));
        String lang = attrs.remove(XmlNode.clark(Cim.XML_NS, "lang"));
        Extras x = new Extras(null, attrs, extras, root.at());
        return new Envelope(v, versionAttr, lang, refs, sections, content, strings, declared, x);
    }

    /** The OVF element an element is (its local name, or its xsi:type for 0.9-style Section/Content), or null if foreign. */
    private String ovfKind(XmlNode c) {
        if (!c.ns().equals(ovfNs)) {
            if (OvfVersion.ofNamespace(c.ns()) != null || c.ns().matches("http://schemas\\.dmtf\\.org/ovf/envelope/\\d+/?")) {
                if (c.name().endsWith("Section")) {
                    // ovftool's complete_vsc uses a 2.x ScaleOutSection inside a 1.x envelope: kept as an extension.
                    findings.add(Finding.warning(c.at(), "section " + c.name() + " of namespace " + c.ns() + " in a " + ovfNs
                            + " envelope: kept as an extension"));
                    return null;
                }
                throw invalid(c.at(), "element " + c.name() + " is in namespace " + c.ns() + " but the Envelope is in " + ovfNs
                        + ": one descriptor cannot mix OVF versions");
            }
            if (!c.ns().isEmpty()) {
                return null;
            }
            if (!warnedNoNamespace) {
                warnedNoNamespace = true;
                findings.add(Finding.warning(c.at(), "element " + c.name() + " has no namespace; read as OVF " + ovfNs + " (oVirt style)"));
            }
        }
        if (c.name().equals("Section") || c.name().equals("Content")) {
            String t = c.attr(SecureXml.XSI, "type");
            if (t == null) {
                throw invalid(c.at(), c.name() + " without xsi:type: cannot tell which section or content it is");
            }
            String local = t.substring(t.indexOf(':') + 1);
            return local.endsWith("_Type") ? local.substring(0, local.length() - 5) : local;
        }
        return c.name();
    }

    private boolean isOvf(XmlNode n, String name) {
        return n.name().equals(name) && (n.ns().equals(ovfNs) || n.ns().isEmpty());
    }

    private String attr(XmlNode n, String name) {
        String v = n.attr(ovfNs, name);
        return v != null ? v : n.attributes().get(name);
    }

    /** Attributes other than the named OVF ones (and xsi:type), for Extras. */
    private Map<String, String> otherAttrs(XmlNode n, String... known) {
        Map<String, String> m = new LinkedHashMap<>(n.attributes());
        m.remove(XmlNode.clark(SecureXml.XSI, "type"));
        m.remove(XmlNode.clark(ovfNs, "required"));
        m.remove("required");
        for (String k : known) {
            m.remove(XmlNode.clark(ovfNs, k));
            m.remove(k);
        }
        return m;
    }

    private Boolean required(XmlNode n) {
        String r = attr(n, "required");
        if (r == null) {
            return null;
        }
        r = r.strip();
        if (r.equals("true") || r.equals("1")) {
            return true;
        }
        if (r.equals("false") || r.equals("0")) {
            return false;
        }
        throw invalid(n.at(), "ovf:required=\"" + r + "\" is not a boolean");
    }

    private Extras extras(XmlNode n, List<XmlNode> unmodelled, String... knownAttrs) {
        return new Extras(required(n), otherAttrs(n, knownAttrs), unmodelled, n.at());
    }

    private Msg msg(XmlNode parent, String name) {
        XmlNode m = parent.child(name, ovf);
        if (m == null) {
            return null;
        }
        return new Msg(m.text().strip(), attr(m, "msgid"));
    }

    private long longAttr(XmlNode n, String name, long absent) {
        String v = attr(n, name);
        if (v == null || v.isBlank()) {
            return absent;
        }
        try {
            return Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            throw invalid(n.at(), n.name() + " ovf:" + name + "=\"" + v + "\" is not an integer");
        }
    }

    private FileRef file(XmlNode f) {
        String id = attr(f, "id");
        String href = attr(f, "href");
        long size = -1;
        String sizeText = attr(f, "size");
        String[] known = {"id", "href", "size", "compression", "chunkSize"};
        if (sizeText != null && !sizeText.isBlank()) {
            try {
                size = Long.parseLong(sizeText.strip());
            } catch (NumberFormatException e) {
                // virt-v2v's templates hold "#SIZE#": keep it as written, the size counts as undeclared.
                findings.add(Finding.warning(f.at(), "File " + id + " ovf:size=\"" + sizeText + "\" is not a number: size unknown"));
                known = new String[] {"id", "href", "compression", "chunkSize"};
            }
        }
        return new FileRef(id, href, size, attr(f, "compression"), longAttr(f, "chunkSize", 0), extras(f, f.children(), known));
    }

    private StringsBundle strings(XmlNode s) {
        Map<String, String> msgs = new LinkedHashMap<>();
        List<XmlNode> other = new ArrayList<>();
        for (XmlNode m : s.children()) {
            if (isOvf(m, "Msg")) {
                msgs.put(attr(m, "msgid"), m.text());
            } else {
                other.add(m);
            }
        }
        Map<String, String> attrs = otherAttrs(s, "fileRef");
        String lang = attrs.remove(XmlNode.clark(Cim.XML_NS, "lang"));
        return new StringsBundle(lang, attr(s, "fileRef"), msgs, new Extras(null, attrs, other, s.at()));
    }

    private Content content(XmlNode c, String kind) {
        String id = attr(c, "id");
        Msg info = msg(c, "Info");
        XmlNode nameNode = c.child("Name", ovf);
        List<Section> sections = new ArrayList<>();
        List<Content> children = new ArrayList<>();
        List<XmlNode> extras = new ArrayList<>();
        for (XmlNode s : c.children()) {
            String k = ovfKind(s);
            if (k == null) {
                if (s.name().endsWith("Section")) {
                    sections.add(unknown(s, s.name()));
                } else {
                    extras.add(s);
                }
            } else if (k.equals("Info") || k.equals("Name")) {
                continue;
            } else if (k.equals("VirtualSystem") || k.equals("VirtualSystemCollection")) {
                if (kind.equals("VirtualSystem")) {
                    throw invalid(s.at(), "VirtualSystem '" + id + "' contains a " + k + ": only a VirtualSystemCollection may");
                }
                children.add(content(s, k));
            } else if (k.endsWith("Section")) {
                sections.add(section(s, k));
            } else {
                // oVirt writes Description, Domain, CreationDate... directly in Content: kept as written.
                extras.add(s);
            }
        }
        Extras x = extras(c, extras, "id");
        String name = nameNode == null ? "" : nameNode.text().strip();
        return kind.equals("VirtualSystem") ? new Content.VirtualSystem(id, info, name, sections, x)
                : new Content.VirtualSystemCollection(id, info, name, sections, children, x);
    }

    private Section section(XmlNode s, String kind) {
        Msg info = msg(s, "Info");
        return switch (kind) {
            case "DiskSection" -> diskSection(s, info);
            case "NetworkSection" -> {
                List<Network> nets = new ArrayList<>();
                List<XmlNode> other = new ArrayList<>();
                for (XmlNode n : s.children()) {
                    if (isOvf(n, "Network")) {
                        nets.add(new Network(attr(n, "name"), msg(n, "Description"),
                                extras(n, unmodelled(n, "Description"), "name")));
                    } else if (!isOvf(n, "Info")) {
                        other.add(n);
                    }
                }
                yield new Section.NetworkSection(info, nets, extras(s, other));
            }
            case "DeploymentOptionSection" -> {
                List<Configuration> cs = new ArrayList<>();
                List<XmlNode> other = new ArrayList<>();
                for (XmlNode n : s.children()) {
                    if (isOvf(n, "Configuration")) {
                        cs.add(new Configuration(attr(n, "id"), "true".equals(attr(n, "default")), msg(n, "Label"),
                                msg(n, "Description"), extras(n, unmodelled(n, "Label", "Description"), "id", "default")));
                    } else if (!isOvf(n, "Info")) {
                        other.add(n);
                    }
                }
                yield new Section.DeploymentOptionSection(info, cs, extras(s, other));
            }
            case "OperatingSystemSection" -> {
                String id = attr(s, "id");
                int code = 0;
                String[] known = {"id", "version"};
                try {
                    code = id == null ? 0 : Integer.parseInt(id.strip());
                } catch (NumberFormatException e) {
                    // oVirt writes its own ids here; keep the attribute as written, the OS is then "unknown".
                    findings.add(Finding.warning(s.at(), "OperatingSystemSection ovf:id=\"" + id + "\" is not a CIM OsType number"));
                    known = new String[] {"version"};
                }
                yield new Section.OperatingSystemSection(info, code, attr(s, "version"), msg(s, "Description"),
                        extras(s, unmodelled(s, "Info", "Description"), known));
            }
            case "VirtualHardwareSection" -> hardware(s, info);
            case "ProductSection" -> product(s, info);
            case "EulaSection" -> new Section.EulaSection(info, msg(s, "License"), extras(s, unmodelled(s, "Info", "License")));
            case "AnnotationSection" -> new Section.AnnotationSection(info, msg(s, "Annotation"),
                    extras(s, unmodelled(s, "Info", "Annotation")));
            case "StartupSection" -> {
                List<XmlNode> entries = new ArrayList<>();
                List<XmlNode> other = new ArrayList<>();
                for (XmlNode n : s.children()) {
                    if (isOvf(n, "Item")) {
                        entries.add(n);
                    } else if (!isOvf(n, "Info")) {
                        other.add(n);
                    }
                }
                yield new Section.StartupSection(info, entries, extras(s, other));
            }
            case "ResourceAllocationSection" -> {
                List<Item> items = new ArrayList<>();
                List<XmlNode> other = new ArrayList<>();
                for (XmlNode n : s.children()) {
                    if (n.ns().equals(ovfNs) && VHS_ITEMS.contains(n.name())) {
                        items.add(item(n));
                    } else if (!isOvf(n, "Info")) {
                        other.add(n);
                    }
                }
                yield new Section.ResourceAllocationSection(info, items, extras(s, other));
            }
            case "InstallSection" -> new Section.InstallSection(info, (int) longAttr(s, "initialBootStopDelay", 0),
                    extras(s, unmodelled(s, "Info"), "initialBootStopDelay"));
            default -> unknown(s, kind);
        };
    }

    private List<XmlNode> unmodelled(XmlNode n, String... modelled) {
        List<XmlNode> out = new ArrayList<>();
        outer:
        for (XmlNode c : n.children()) {
            for (String m : modelled) {
                if (isOvf(c, m)) {
                    continue outer;
                }
            }
            out.add(c);
        }
        return out;
    }

    private Section.UnknownSection unknown(XmlNode s, String kind) {
        Boolean req = required(s);
        if (req == null || req) {
            findings.add(Finding.warning(s.at(), "section " + kind + (s.ns().isEmpty() ? "" : " {" + s.ns() + "}")
                    + " is not understood and is ovf:required (the default): an importer should refuse it"));
        }
        return new Section.UnknownSection(s, new Extras(req, Map.of(), List.of(), s.at()));
    }

    private Section.DiskSection diskSection(XmlNode s, Msg info) {
        List<VirtualDisk> disks = new ArrayList<>();
        List<XmlNode> other = new ArrayList<>();
        for (XmlNode d : s.children()) {
            if (!isOvf(d, "Disk")) {
                if (!isOvf(d, "Info")) {
                    other.add(d);
                }
                continue;
            }
            String capacity = attr(d, "capacity");
            String units = attr(d, "capacityAllocationUnits");
            if ((capacity == null || capacity.isBlank()) && attr(d, "size") != null) {
                // oVirt export domains give ovf:size in GiB instead of ovf:capacity.
                capacity = attr(d, "size");
                units = "byte * 2^30";
                findings.add(Finding.warning(d.at(), "Disk " + attr(d, "diskId") + " has no ovf:capacity; its ovf:size (" + capacity
                        + ") is read as GiB (oVirt)"));
            }
            disks.add(new VirtualDisk(attr(d, "diskId"), capacity, units, attr(d, "fileRef"), attr(d, "format"),
                    longAttr(d, "populatedSize", -1), attr(d, "parentRef"),
                    extras(d, d.children(), "diskId", "capacity", "capacityAllocationUnits", "fileRef", "format", "populatedSize",
                            "parentRef")));
        }
        return new Section.DiskSection(info, disks, extras(s, other));
    }

    private Section.VirtualHardwareSection hardware(XmlNode s, Msg info) {
        Item system = null;
        List<Item> items = new ArrayList<>();
        List<XmlNode> other = new ArrayList<>();
        for (XmlNode n : s.children()) {
            if (isOvf(n, "System")) {
                system = item(n);
            } else if (n.ns().equals(ovfNs) && VHS_ITEMS.contains(n.name()) || n.ns().isEmpty() && VHS_ITEMS.contains(n.name())) {
                items.add(item(n));
            } else if (!isOvf(n, "Info")) {
                other.add(n);
            }
        }
        String transport = attr(s, "transport");
        List<String> transports = transport == null || transport.isBlank() ? List.of() : List.of(transport.strip().split("\\s+"));
        return new Section.VirtualHardwareSection(info, attr(s, "id"), transports, system, items, extras(s, other, "id", "transport"));
    }

    private Item item(XmlNode n) {
        Item.Kind kind = switch (n.name()) {
            case "StorageItem" -> Item.Kind.STORAGE;
            case "EthernetPortItem" -> Item.Kind.ETHERNET;
            default -> Item.Kind.ITEM;
        };
        List<Item.Rasd> props = new ArrayList<>();
        List<XmlNode> other = new ArrayList<>();
        for (XmlNode c : n.children()) {
            String cls = Cim.cimClass(c.ns());
            if (cls != null) {
                if (!Cim.isCanonical(c.ns()) && warnedCim.add(c.ns())) {
                    findings.add(Finding.warning(c.at(), "CIM namespace " + c.ns() + " is not the canonical URI; read as " + cls));
                }
                props.add(new Item.Rasd(c.name(), c.text(), c.at()));
            } else {
                other.add(c);
            }
        }
        String conf = attr(n, "configuration");
        List<String> confs = conf == null || conf.isBlank() ? List.of() : List.of(conf.strip().split("\\s+"));
        return new Item(kind, props, confs, attr(n, "bound"), extras(n, other, "configuration", "bound"));
    }

    private Section.ProductSection product(XmlNode s, Msg info) {
        List<Property> props = new ArrayList<>();
        List<XmlNode> other = new ArrayList<>();
        String category = "";
        for (XmlNode c : s.children()) {
            if (!c.ns().equals(ovfNs) && !c.ns().isEmpty()) {
                other.add(c);
                continue;
            }
            switch (c.name()) {
                case "Info", "Product", "Vendor", "Version", "FullVersion", "ProductUrl", "VendorUrl", "AppUrl" -> { }
                case "Category" -> category = c.text().strip();
                case "Property" -> props.add(property(c, category));
                default -> other.add(c);
            }
        }
        return new Section.ProductSection(info, attr(s, "class"), attr(s, "instance"), msg(s, "Product"), msg(s, "Vendor"),
                text(s, "Version"), text(s, "FullVersion"), text(s, "ProductUrl"), text(s, "VendorUrl"), text(s, "AppUrl"), props,
                extras(s, other, "class", "instance"));
    }

    private String text(XmlNode parent, String name) {
        XmlNode n = parent.child(name, ovf);
        return n == null ? "" : n.text().strip();
    }

    private Property property(XmlNode p, String category) {
        List<Property.Value> values = new ArrayList<>();
        List<XmlNode> other = new ArrayList<>();
        for (XmlNode c : p.children()) {
            if (isOvf(c, "Value")) {
                values.add(new Property.Value(attr(c, "value"), attr(c, "configuration")));
            } else if (!isOvf(c, "Label") && !isOvf(c, "Description")) {
                other.add(c);
            }
        }
        return new Property(attr(p, "key"), attr(p, "type"), attr(p, "qualifiers"), attr(p, "value"),
                "true".equals(attr(p, "userConfigurable")), "true".equals(attr(p, "password")), msg(p, "Label"),
                msg(p, "Description"), values, category,
                extras(p, other, "key", "type", "qualifiers", "value", "userConfigurable", "password"));
    }

    private OvfException invalid(Location at, String what) {
        return new OvfException(OvfException.Kind.INVALID, at + ": " + what);
    }
}
