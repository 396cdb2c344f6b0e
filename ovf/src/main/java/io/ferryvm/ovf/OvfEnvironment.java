package io.ferryvm.ovf;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.xml.XMLConstants;
import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;

/**
 * The OVF environment (DSP8027) of a VirtualSystem: its ProductSection properties with the user's values,
 * checked against their type and qualifiers, for the chosen deployment option; properties of enclosing
 * VirtualSystemCollections are included (the VirtualSystem's own win), and each sibling VirtualSystem gets
 * an Entity. For the "iso" transport the document goes into an ISO 9660 image as ovf-env.xml.
 */
public final class OvfEnvironment {
    /** The PlatformSection: who deploys the VM. */
    public record Platform(String kind, String version, String vendor, String locale) {
        public static final Platform FERRY = new Platform("Ferry", "0.1.0", "Ferry", "en");
    }

    /** One property of the environment: its full key (class.key.instance) and value. */
    public record Value(String key, String value) {}

    private OvfEnvironment() {}

    /** The properties in force for a VirtualSystem; throws BAD_VALUE naming every bad or unknown value. */
    public static List<Value> values(Envelope e, String virtualSystemId, Map<String, String> userValues, String deploymentOption) {
        String config = VmSpecMapper.configuration(e, deploymentOption);
        List<Content> path = pathTo(e.content(), virtualSystemId);
        if (path == null) {
            throw new OvfException(OvfException.Kind.BAD_VALUE, "no VirtualSystem '" + virtualSystemId + "' in the descriptor; it has "
                    + e.virtualSystems().stream().map(Content::id).toList());
        }
        Map<String, String> out = new LinkedHashMap<>();
        Set<String> used = new HashSet<>();
        List<String> errors = new ArrayList<>();
        for (Content c : path) {
            for (Section.ProductSection p : c.sectionsOf(Section.ProductSection.class)) {
                for (Property prop : p.properties()) {
                    String full = p.fullKey(prop);
                    String given = userValues.containsKey(full) ? userValues.get(full) : userValues.get(prop.key());
                    String v = prop.defaultFor(config);
                    if (given != null) {
                        used.add(userValues.containsKey(full) ? full : prop.key());
                        if (!prop.userConfigurable()) {
                            errors.add("property " + full + " is not user-configurable (ovf:userConfigurable is false)");
                            continue;
                        }
                        v = given;
                    }
                    if (!v.isEmpty() || given != null) {
                        String bad = PropertyValues.check(prop, v);
                        if (bad != null) {
                            errors.add("property " + full + ": " + bad);
                            continue;
                        }
                    }
                    out.put(full, v);
                }
            }
        }
        for (String k : userValues.keySet()) {
            if (!used.contains(k)) {
                errors.add("property " + k + " is not declared in a ProductSection of '" + virtualSystemId + "'");
            }
        }
        if (!errors.isEmpty()) {
            throw new OvfException(OvfException.Kind.BAD_VALUE, String.join("\n", errors));
        }
        List<Value> list = new ArrayList<>();
        out.forEach((k, v) -> list.add(new Value(k, v)));
        return list;
    }

    /** The property keys (full and bare) a VirtualSystem sees: its own and its enclosing collections'. */
    public static Set<String> keys(Envelope e, String virtualSystemId) {
        Set<String> keys = new HashSet<>();
        List<Content> path = pathTo(e.content(), virtualSystemId);
        if (path != null) {
            for (Content c : path) {
                for (Section.ProductSection p : c.sectionsOf(Section.ProductSection.class)) {
                    for (Property prop : p.properties()) {
                        keys.add(prop.key());
                        keys.add(p.fullKey(prop));
                    }
                }
            }
        }
        return keys;
    }

    /** The ovf-env.xml document for one VirtualSystem. */
    public static byte[] document(Envelope e, String virtualSystemId, Map<String, String> userValues, String deploymentOption, Platform platform) {
        List<Value> own = values(e, virtualSystemId, userValues, deploymentOption);
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            XMLStreamWriter w = XMLOutputFactory.newFactory().createXMLStreamWriter(bytes, "UTF-8");
            String oe = Cim.ENV;
            w.writeStartDocument("UTF-8", "1.0");
            w.writeCharacters("\n");
            w.writeStartElement("", "Environment", oe);
            w.writeDefaultNamespace(oe);
            w.writeNamespace("oe", oe);
            w.writeNamespace("xsi", XMLConstants.W3C_XML_SCHEMA_INSTANCE_NS_URI);
            w.writeAttribute("oe", oe, "id", virtualSystemId);
            w.writeCharacters("\n  ");
            w.writeStartElement(oe, "PlatformSection");
            for (String[] kv : new String[][] {{"Kind", platform.kind()}, {"Version", platform.version()}, {"Vendor", platform.vendor()},
                {"Locale", platform.locale()}}) {
                w.writeCharacters("\n    ");
                w.writeStartElement(oe, kv[0]);
                w.writeCharacters(kv[1]);
                w.writeEndElement();
            }
            w.writeCharacters("\n  ");
            w.writeEndElement();
            properties(w, own, "  ");
            List<Content> path = pathTo(e.content(), virtualSystemId);
            if (path.size() > 1 && path.get(path.size() - 2) instanceof Content.VirtualSystemCollection parent) {
                for (Content sibling : parent.children()) {
                    if (sibling instanceof Content.VirtualSystem && !sibling.id().equals(virtualSystemId)) {
                        w.writeCharacters("\n  ");
                        w.writeStartElement(oe, "Entity");
                        w.writeAttribute("oe", oe, "id", sibling.id());
                        properties(w, values(e, sibling.id(), Map.of(), deploymentOption), "    ");
                        w.writeCharacters("\n  ");
                        w.writeEndElement();
                    }
                }
            }
            w.writeCharacters("\n");
            w.writeEndElement();
            w.writeCharacters("\n");
            w.writeEndDocument();
            w.close();
            return bytes.toByteArray();
        } catch (XMLStreamException ex) {
            throw new IllegalStateException("cannot write ovf-env.xml: " + ex.getMessage(), ex);
        }
    }

    private static void properties(XMLStreamWriter w, List<Value> values, String indent) throws XMLStreamException {
        w.writeCharacters("\n" + indent);
        w.writeStartElement(Cim.ENV, "PropertySection");
        for (Value v : values) {
            w.writeCharacters("\n" + indent + "  ");
            w.writeEmptyElement(Cim.ENV, "Property");
            w.writeAttribute("oe", Cim.ENV, "key", v.key());
            w.writeAttribute("oe", Cim.ENV, "value", v.value());
        }
        w.writeCharacters("\n" + indent);
        w.writeEndElement();
    }

    /** An ISO 9660 image holding ovf-env.xml, for the "iso" transport. */
    public static void writeIso(byte[] document, Path iso) throws IOException {
        IsoImage.write(Map.of("ovf-env.xml", document), "OVF ENV", iso);
    }

    /** The contents from the root down to the VirtualSystem with this id, or null. */
    private static List<Content> pathTo(Content c, String id) {
        if (c == null) {
            return null;
        }
        if (c instanceof Content.VirtualSystem && id.equals(c.id())) {
            List<Content> l = new ArrayList<>();
            l.add(c);
            return l;
        }
        if (c instanceof Content.VirtualSystemCollection vsc) {
            for (Content child : vsc.children()) {
                List<Content> p = pathTo(child, id);
                if (p != null) {
                    p.add(0, c);
                    return p;
                }
            }
        }
        return null;
    }
}
