package io.ferryvm.ovf;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An immutable XML element as read: namespace URI, local name, the prefix it was written with (a hint
 * for writing it back), attributes keyed in Clark notation ({@code {uri}local}, or {@code local} when
 * unqualified), its own text, child elements, and where it was. Vendor extensions travel as these.
 */
public record XmlNode(String ns, String name, String prefix, Map<String, String> attributes, String text,
        List<XmlNode> children, Location at) {

    public XmlNode {
        ns = ns == null ? "" : ns;
        prefix = prefix == null ? "" : prefix;
        attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
        text = text == null ? "" : text;
        children = List.copyOf(children);
        at = at == null ? Location.NONE : at;
    }

    public static String clark(String ns, String local) {
        return ns == null || ns.isEmpty() ? local : "{" + ns + "}" + local;
    }

    public String attr(String ns, String local) {
        return attributes.get(clark(ns, local));
    }

    /** The first child with this local name in any of the namespaces, or null. */
    public XmlNode child(String local, List<String> namespaces) {
        for (XmlNode c : children) {
            if (c.name.equals(local) && namespaces.contains(c.ns)) {
                return c;
            }
        }
        return null;
    }

    public List<XmlNode> childrenNamed(String local, List<String> namespaces) {
        List<XmlNode> out = new ArrayList<>();
        for (XmlNode c : children) {
            if (c.name.equals(local) && namespaces.contains(c.ns)) {
                out.add(c);
            }
        }
        return out;
    }

    public String trimmedText() {
        return text.strip();
    }

    /** This node with every element and attribute namespace mapped (used to move ovf: content between versions). */
    public XmlNode renamespace(Map<String, String> map) {
        Map<String, String> attrs = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : attributes.entrySet()) {
            String k = e.getKey();
            if (k.startsWith("{")) {
                int end = k.indexOf('}');
                String uri = k.substring(1, end);
                k = clark(map.getOrDefault(uri, uri), k.substring(end + 1));
            }
            attrs.put(k, e.getValue());
        }
        List<XmlNode> kids = new ArrayList<>(children.size());
        for (XmlNode c : children) {
            kids.add(c.renamespace(map));
        }
        return new XmlNode(map.getOrDefault(ns, ns), name, prefix, attrs, text, kids, at);
    }

    @Override
    public String toString() {
        return (prefix.isEmpty() ? "" : prefix + ":") + name + " at " + at;
    }
}
