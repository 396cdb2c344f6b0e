package io.ferryvm.ovf;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.Transformer;
import javax.xml.transform.TransformerException;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * Writes an {@link Envelope} as OVF 1.x or 2.x XML.
 *
 * <p>Implementation notes: OVF elements go in the default namespace and OVF attributes carry the ovf:
 * prefix (as ovftool and VirtualBox write them); CIM properties are sorted by name because DSP8023's CIM
 * types are xs:sequences in alphabetical order; extensions are written where they were, with the prefixes
 * they had where that does not clash. Converting 1.x to 2.x moves OVF-namespace extensions to the new
 * namespace; 2.x StorageItem/EthernetPortItem become plain Items in 1.x (the only kind 1.x has).
 */
public final class EnvelopeWriter {
    private static final String XMLNS = XMLConstants.XMLNS_ATTRIBUTE_NS_URI;

    private final OvfVersion target;
    private final String ovf;
    private final Map<String, String> prefixes = new LinkedHashMap<>();
    private final Map<String, String> remap = new HashMap<>();
    private Document doc;

    private EnvelopeWriter(OvfVersion target) {
        if (target == OvfVersion.V0_9) {
            throw new IllegalArgumentException("Ferry writes OVF 1.x or 2.x, not the pre-standard 0.9");
        }
        this.target = target;
        this.ovf = target.namespace();
    }

    /** The descriptor in its own version (0.9 is written as 1.x). */
    public static byte[] write(Envelope e) {
        return write(e, e.version() == OvfVersion.V0_9 ? OvfVersion.V1 : e.version());
    }

    public static byte[] write(Envelope e, OvfVersion target) {
        return new EnvelopeWriter(target).envelope(e);
    }

    private byte[] envelope(Envelope e) {
        // The source's own OVF namespace (and oVirt's unqualified elements) become the target's; another
        // version's namespace (ovftool's 2.x ScaleOutSection in a 1.x envelope) stays what it was.
        for (String ns : e.version().namespaces()) {
            remap.put(ns, ovf);
        }
        remap.put("", ovf);
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setNamespaceAware(true);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            doc = f.newDocumentBuilder().newDocument();
        } catch (ParserConfigurationException ex) {
            throw new IllegalStateException(ex);
        }
        prefixes.put(ovf, "ovf");
        prefixes.put(Cim.RASD, "rasd");
        prefixes.put(Cim.VSSD, "vssd");
        if (target == OvfVersion.V2) {
            prefixes.put(Cim.SASD, "sasd");
            prefixes.put(Cim.EPASD, "epasd");
        }
        prefixes.put(SecureXml.XSI, "xsi");
        for (Map.Entry<String, String> d : e.namespaces().entrySet()) {
            String uri = remap.getOrDefault(d.getValue(), d.getValue());
            String cls = Cim.cimClass(uri);
            if (cls != null) {
                continue;
            }
            if (!d.getKey().isEmpty() && !prefixes.containsKey(uri) && !prefixes.containsValue(d.getKey())) {
                prefixes.put(uri, d.getKey());
            }
        }
        Element root = doc.createElementNS(ovf, "Envelope");
        doc.appendChild(root);
        root.setAttributeNS(XMLNS, "xmlns", ovf);
        String version = target == OvfVersion.V2 ? "2.0" : e.version() == OvfVersion.V1 && !e.versionAttribute().isEmpty()
                && e.versionAttribute().startsWith("1") ? e.versionAttribute() : "1.0";
        ovfAttr(root, "version", version);
        if (!e.lang().isEmpty()) {
            root.setAttributeNS(Cim.XML_NS, "xml:lang", e.lang());
        }
        attrs(root, e.x().attributes());
        Element refs = ovfEl(root, "References");
        for (FileRef fr : e.references()) {
            Element fe = ovfEl(refs, "File");
            ovfAttr(fe, "href", fr.href());
            ovfAttr(fe, "id", fr.id());
            if (fr.size() >= 0) {
                ovfAttr(fe, "size", Long.toString(fr.size()));
            }
            if (!fr.compression().isEmpty()) {
                ovfAttr(fe, "compression", fr.compression());
            }
            if (fr.chunkSize() > 0) {
                ovfAttr(fe, "chunkSize", Long.toString(fr.chunkSize()));
            }
            extras(fe, fr.x());
        }
        for (Section s : e.sections()) {
            section(root, s);
        }
        if (e.content() != null) {
            content(root, e.content());
        }
        for (XmlNode n : e.x().elements()) {
            node(root, n);
        }
        for (StringsBundle sb : e.strings()) {
            Element se = ovfEl(root, "Strings");
            if (!sb.lang().isEmpty()) {
                se.setAttributeNS(Cim.XML_NS, "xml:lang", sb.lang());
            }
            if (!sb.fileRef().isEmpty()) {
                ovfAttr(se, "fileRef", sb.fileRef());
            }
            attrs(se, sb.x().attributes());
            for (Map.Entry<String, String> m : sb.messages().entrySet()) {
                Element me = ovfEl(se, "Msg");
                ovfAttr(me, "msgid", m.getKey());
                me.setTextContent(m.getValue());
            }
            for (XmlNode n : sb.x().elements()) {
                node(se, n);
            }
        }
        // Declare every namespace on the root once, so extensions deep in the tree need no local declarations.
        for (Map.Entry<String, String> p : prefixes.entrySet()) {
            root.setAttributeNS(XMLNS, "xmlns:" + p.getValue(), p.getKey());
        }
        return serialize();
    }

    private byte[] serialize() {
        try {
            TransformerFactory tf = TransformerFactory.newInstance();
            tf.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            Transformer t = tf.newTransformer();
            t.setOutputProperty(OutputKeys.ENCODING, "UTF-8");
            t.setOutputProperty(OutputKeys.INDENT, "yes");
            t.setOutputProperty("{http://xml.apache.org/xslt}indent-amount", "2");
            t.setOutputProperty(OutputKeys.STANDALONE, "no");
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            doc.setXmlStandalone(true);
            t.transform(new DOMSource(doc), new StreamResult(out));
            return out.toByteArray();
        } catch (TransformerException ex) {
            throw new IllegalStateException("cannot serialize the descriptor: " + ex.getMessage(), ex);
        }
    }

    private String prefix(String uri) {
        String p = prefixes.get(uri);
        if (p == null) {
            p = "ns" + prefixes.size();
            prefixes.put(uri, p);
        }
        return p;
    }

    private Element ovfEl(Element parent, String name) {
        Element el = doc.createElementNS(ovf, name);
        parent.appendChild(el);
        return el;
    }

    private void ovfAttr(Element el, String name, String value) {
        if (value != null) {
            el.setAttributeNS(ovf, "ovf:" + name, value);
        }
    }

    private void msg(Element parent, String name, Msg m) {
        if (m == null) {
            return;
        }
        Element el = ovfEl(parent, name);
        el.setTextContent(m.text());
        if (!m.msgid().isEmpty()) {
            ovfAttr(el, "msgid", m.msgid());
        }
    }

    private void text(Element parent, String name, String value) {
        if (!value.isEmpty()) {
            ovfEl(parent, name).setTextContent(value);
        }
    }

    private void attrs(Element el, Map<String, String> attributes) {
        for (Map.Entry<String, String> a : attributes.entrySet()) {
            String k = a.getKey();
            if (k.startsWith("{")) {
                int end = k.indexOf('}');
                String uri = k.substring(1, end);
                String local = k.substring(end + 1);
                if (uri.equals(XMLNS)) {
                    continue;
                }
                uri = remap.getOrDefault(uri, uri).isEmpty() ? uri : remap.getOrDefault(uri, uri);
                if (uri.equals(Cim.XML_NS)) {
                    el.setAttributeNS(uri, "xml:" + local, a.getValue());
                } else {
                    el.setAttributeNS(uri, prefix(uri) + ":" + local, a.getValue());
                }
            } else {
                el.setAttributeNS(null, k, a.getValue());
            }
        }
    }

    private void extras(Element el, Extras x) {
        if (x.required() != null) {
            ovfAttr(el, "required", x.required().toString());
        }
        attrs(el, x.attributes());
        for (XmlNode n : x.elements()) {
            node(el, n);
        }
    }

    private void node(Element parent, XmlNode n) {
        String uri = remap.getOrDefault(n.ns(), n.ns());
        Element el;
        if (uri.equals(ovf)) {
            el = doc.createElementNS(ovf, n.name());
        } else {
            String p = prefixes.containsKey(uri) ? prefixes.get(uri) : n.prefix().isEmpty() || prefixes.containsValue(n.prefix())
                    ? prefix(uri) : register(uri, n.prefix());
            el = doc.createElementNS(uri, p + ":" + n.name());
        }
        parent.appendChild(el);
        attrs(el, n.attributes());
        if (n.children().isEmpty()) {
            el.setTextContent(n.text());
        } else {
            for (XmlNode c : n.children()) {
                node(el, c);
            }
        }
    }

    private String register(String uri, String p) {
        prefixes.put(uri, p);
        return p;
    }

    private void content(Element parent, Content c) {
        Element el = ovfEl(parent, c instanceof Content.VirtualSystem ? "VirtualSystem" : "VirtualSystemCollection");
        ovfAttr(el, "id", c.id());
        if (c.x().required() != null) {
            ovfAttr(el, "required", c.x().required().toString());
        }
        attrs(el, c.x().attributes());
        msg(el, "Info", c.info() == null ? Msg.EMPTY : c.info());
        if (!c.name().isEmpty()) {
            ovfEl(el, "Name").setTextContent(c.name());
        }
        for (Section s : c.sections()) {
            section(el, s);
        }
        if (c instanceof Content.VirtualSystemCollection vsc) {
            for (Content child : vsc.children()) {
                content(el, child);
            }
        }
        for (XmlNode n : c.x().elements()) {
            node(el, n);
        }
    }

    private void section(Element parent, Section s) {
        if (s instanceof Section.UnknownSection u) {
            node(parent, u.node());
            return;
        }
        Element el = ovfEl(parent, s.element());
        msg(el, "Info", s.info() == null ? Msg.EMPTY : s.info());
        if (s instanceof Section.DiskSection d) {
            for (VirtualDisk v : d.disks()) {
                Element de = ovfEl(el, "Disk");
                if (!v.capacity().isEmpty()) {
                    ovfAttr(de, "capacity", v.capacity());
                }
                if (!v.capacityUnits().equals("byte")) {
                    ovfAttr(de, "capacityAllocationUnits", v.capacityUnits());
                }
                ovfAttr(de, "diskId", v.diskId());
                if (!v.fileRef().isEmpty()) {
                    ovfAttr(de, "fileRef", v.fileRef());
                }
                if (!v.format().isEmpty()) {
                    ovfAttr(de, "format", v.format());
                }
                if (!v.parentRef().isEmpty()) {
                    ovfAttr(de, "parentRef", v.parentRef());
                }
                if (v.populatedSize() >= 0) {
                    ovfAttr(de, "populatedSize", Long.toString(v.populatedSize()));
                }
                extras(de, v.x());
            }
        } else if (s instanceof Section.NetworkSection n) {
            for (Network net : n.networks()) {
                Element ne = ovfEl(el, "Network");
                ovfAttr(ne, "name", net.name());
                attrs(ne, net.x().attributes());
                if (!net.description().text().isEmpty() || !net.description().msgid().isEmpty()) {
                    msg(ne, "Description", net.description());
                }
                for (XmlNode x : net.x().elements()) {
                    node(ne, x);
                }
            }
        } else if (s instanceof Section.DeploymentOptionSection d) {
            for (Configuration c : d.configurations()) {
                Element ce = ovfEl(el, "Configuration");
                ovfAttr(ce, "id", c.id());
                if (c.isDefault()) {
                    ovfAttr(ce, "default", "true");
                }
                attrs(ce, c.x().attributes());
                msg(ce, "Label", c.label());
                msg(ce, "Description", c.description());
                for (XmlNode x : c.x().elements()) {
                    node(ce, x);
                }
            }
        } else if (s instanceof Section.OperatingSystemSection os) {
            if (!os.x().attributes().containsKey(XmlNode.clark(ovf, "id")) && !hasOvfAttr(os.x(), "id")) {
                ovfAttr(el, "id", Integer.toString(os.id()));
            }
            if (os.version() != null && !os.version().isEmpty()) {
                ovfAttr(el, "version", os.version());
            }
            if (os.description() != null) {
                msg(el, "Description", os.description());
            }
        } else if (s instanceof Section.VirtualHardwareSection v) {
            if (!v.id().isEmpty()) {
                ovfAttr(el, "id", v.id());
            }
            if (!v.transports().isEmpty()) {
                ovfAttr(el, "transport", String.join(" ", v.transports()));
            }
            if (v.system() != null) {
                item(el, "System", v.system(), Cim.VSSD);
            }
            for (Item i : v.items()) {
                item(el, null, i, null);
            }
        } else if (s instanceof Section.ProductSection p) {
            product(el, p);
            if (p.x().required() != null) {
                ovfAttr(el, "required", p.x().required().toString());
            }
            attrs(el, p.x().attributes());
            return;
        } else if (s instanceof Section.EulaSection eu) {
            msg(el, "License", eu.license() == null ? Msg.EMPTY : eu.license());
        } else if (s instanceof Section.AnnotationSection an) {
            msg(el, "Annotation", an.annotation() == null ? Msg.EMPTY : an.annotation());
        } else if (s instanceof Section.StartupSection st) {
            for (XmlNode entry : st.entries()) {
                node(el, entry);
            }
        } else if (s instanceof Section.ResourceAllocationSection ra) {
            for (Item i : ra.items()) {
                item(el, null, i, null);
            }
        } else if (s instanceof Section.InstallSection in) {
            if (in.initialBootStopDelay() > 0) {
                ovfAttr(el, "initialBootStopDelay", Integer.toString(in.initialBootStopDelay()));
            }
        }
        extras(el, s.x());
    }

    private static boolean hasOvfAttr(Extras x, String local) {
        for (String k : x.attributes().keySet()) {
            if (k.endsWith("}" + local) && OvfVersion.ofNamespace(k.substring(1, k.indexOf('}'))) != null) {
                return true;
            }
        }
        return false;
    }

    private void item(Element parent, String elementName, Item i, String forcedNs) {
        Item.Kind kind = target == OvfVersion.V1 ? Item.Kind.ITEM : i.kind();
        String ns = forcedNs != null ? forcedNs : kind.namespace();
        Element el = ovfEl(parent, elementName != null ? elementName : kind.element);
        if (!i.configurations().isEmpty()) {
            ovfAttr(el, "configuration", String.join(" ", i.configurations()));
        }
        if (!i.bound().isEmpty()) {
            ovfAttr(el, "bound", i.bound());
        }
        if (i.x().required() != null) {
            ovfAttr(el, "required", i.x().required().toString());
        }
        attrs(el, i.x().attributes());
        List<Item.Rasd> props = new ArrayList<>(i.properties());
        props.sort(Comparator.comparing(Item.Rasd::name));
        String p = prefix(ns);
        for (Item.Rasd r : props) {
            Element re = doc.createElementNS(ns, p + ":" + r.name());
            re.setTextContent(r.value());
            el.appendChild(re);
        }
        for (XmlNode x : i.x().elements()) {
            node(el, x);
        }
    }

    private void product(Element el, Section.ProductSection p) {
        if (!p.productClass().isEmpty()) {
            ovfAttr(el, "class", p.productClass());
        }
        if (!p.instance().isEmpty()) {
            ovfAttr(el, "instance", p.instance());
        }
        if (!p.product().text().isEmpty()) {
            msg(el, "Product", p.product());
        }
        if (!p.vendor().text().isEmpty()) {
            msg(el, "Vendor", p.vendor());
        }
        text(el, "Version", p.version());
        text(el, "FullVersion", p.fullVersion());
        text(el, "ProductUrl", p.productUrl());
        text(el, "VendorUrl", p.vendorUrl());
        text(el, "AppUrl", p.appUrl());
        List<XmlNode> foreign = new ArrayList<>();
        for (XmlNode n : p.x().elements()) {
            if (remap.containsKey(n.ns())) {
                node(el, n);
            } else {
                foreign.add(n);
            }
        }
        String category = "";
        for (Property prop : p.properties()) {
            if (!prop.category().equals(category)) {
                category = prop.category();
                ovfEl(el, "Category").setTextContent(category);
            }
            Element pe = ovfEl(el, "Property");
            ovfAttr(pe, "key", prop.key());
            ovfAttr(pe, "type", prop.type());
            if (!prop.qualifiers().isEmpty()) {
                ovfAttr(pe, "qualifiers", prop.qualifiers());
            }
            if (!prop.value().isEmpty()) {
                ovfAttr(pe, "value", prop.value());
            }
            if (prop.userConfigurable()) {
                ovfAttr(pe, "userConfigurable", "true");
            }
            if (prop.password()) {
                ovfAttr(pe, "password", "true");
            }
            if (prop.x().required() != null) {
                ovfAttr(pe, "required", prop.x().required().toString());
            }
            attrs(pe, prop.x().attributes());
            if (!prop.label().text().isEmpty() || !prop.label().msgid().isEmpty()) {
                msg(pe, "Label", prop.label());
            }
            if (!prop.description().text().isEmpty() || !prop.description().msgid().isEmpty()) {
                msg(pe, "Description", prop.description());
            }
            for (Property.Value v : prop.values()) {
                Element ve = ovfEl(pe, "Value");
                ovfAttr(ve, "value", v.value());
                if (v.configuration() != null) {
                    ovfAttr(ve, "configuration", v.configuration());
                }
            }
            for (XmlNode x : prop.x().elements()) {
                node(pe, x);
            }
        }
        for (XmlNode n : foreign) {
            node(el, n);
        }
    }
}
