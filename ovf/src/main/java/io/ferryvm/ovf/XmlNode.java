package io.ferryvm.ovf;

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

    public String trimmedText() {
        return text.strip();
    }

    @Override
    public String toString() {
        return (prefix.isEmpty() ? "" : prefix + ":") + name + " at " + at;
    }
}
