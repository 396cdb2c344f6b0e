package io.ferryvm.cim;

import java.util.List;
import java.util.Set;

/**
 * Writes DSP0201 CIM-XML into a StringBuilder: instances, paths, classes, values and the message
 * envelope. Text and attribute values are escaped; characters XML cannot carry are replaced by U+FFFD
 * (a VM name cannot hold them, but descriptions quote client input).
 */
final class CimXmlWriter {
    private final StringBuilder b;
    private final String host;

    /** host: what HOST elements carry (the server as the client addressed it). */
    CimXmlWriter(StringBuilder b, String host) {
        this.b = b;
        this.host = host;
    }

    StringBuilder out() {
        return b;
    }

    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 16);
        appendEscaped(b, s);
        return b.toString();
    }

    static void appendEscaped(StringBuilder b, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&apos;");
                default -> {
                    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0xFFFE || c == 0xFFFF) {
                        b.append('\uFFFD');
                    } else if (c == '\r') {
                        b.append("&#13;");
                    } else {
                        b.append(c);
                    }
                }
            }
        }
    }

    private CimXmlWriter text(String s) {
        appendEscaped(b, s);
        return this;
    }

    /** An attribute whose value is a CIM name or type (letters, digits, '_'): nothing to escape. */
    private CimXmlWriter nameAttr(String name, String value) {
        b.append(' ').append(name).append("=\"").append(value).append('"');
        return this;
    }

    private CimXmlWriter attr(String name, String value) {
        b.append(' ').append(name).append("=\"");
        appendEscaped(b, value);
        b.append('"');
        return this;
    }

    // ---- envelope ----

    void begin(String messageId) {
        b.append("<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE");
        attr("ID", messageId);
        b.append(" PROTOCOLVERSION=\"1.0\"><SIMPLERSP>");
    }

    void end() {
        b.append("</SIMPLERSP></MESSAGE></CIM>\n");
    }

    void error(CimException e) {
        b.append("<ERROR");
        attr("CODE", Integer.toString(e.status().code()));
        attr("DESCRIPTION", e.description());
        b.append("/>");
    }

    // ---- values ----

    void value(CimType type, Object v) {
        b.append("<VALUE>");
        if (v instanceof CimInstance) {
            StringBuilder inner = new StringBuilder();
            new CimXmlWriter(inner, host).instance((CimInstance) v, false);
            text(inner.toString());
        } else {
            text(type.format(v));
        }
        b.append("</VALUE>");
    }

    void valueArray(CimType type, List<?> values) {
        b.append("<VALUE.ARRAY>");
        for (Object v : values) {
            if (v == null) {
                b.append("<VALUE.NULL/>");
            } else {
                value(type, v);
            }
        }
        b.append("</VALUE.ARRAY>");
    }

    /** A reference: INSTANCEPATH (with this server as HOST) when the path names a namespace, else INSTANCENAME. */
    void valueReference(CimObjectPath p) {
        b.append("<VALUE.REFERENCE>");
        if (p.isClassPath()) {
            if (p.namespace() != null) {
                b.append("<CLASSPATH>");
                namespacePath(p);
                className(p.className());
                b.append("</CLASSPATH>");
            } else {
                className(p.className());
            }
        } else if (p.namespace() != null) {
            instancePath(p);
        } else {
            instanceName(p);
        }
        b.append("</VALUE.REFERENCE>");
    }

    void className(String name) {
        b.append("<CLASSNAME");
        attr("NAME", name);
        b.append("/>");
    }

    void localNamespacePath(String ns) {
        b.append("<LOCALNAMESPACEPATH>");
        for (String part : ns.split("/")) {
            b.append("<NAMESPACE");
            attr("NAME", part);
            b.append("/>");
        }
        b.append("</LOCALNAMESPACEPATH>");
    }

    private void namespacePath(CimObjectPath p) {
        b.append("<NAMESPACEPATH><HOST>");
        text(p.host() != null ? p.host() : host);
        b.append("</HOST>");
        localNamespacePath(p.namespace());
        b.append("</NAMESPACEPATH>");
    }

    void instancePath(CimObjectPath p) {
        b.append("<INSTANCEPATH>");
        namespacePath(p);
        instanceName(p);
        b.append("</INSTANCEPATH>");
    }

    void localInstancePath(CimObjectPath p) {
        b.append("<LOCALINSTANCEPATH>");
        localNamespacePath(p.namespace());
        instanceName(p);
        b.append("</LOCALINSTANCEPATH>");
    }

    void classPath(CimObjectPath p) {
        b.append("<CLASSPATH>");
        namespacePath(p);
        className(p.className());
        b.append("</CLASSPATH>");
    }

    void objectPath(CimObjectPath p) {
        b.append("<OBJECTPATH>");
        if (p.isClassPath()) {
            classPath(p);
        } else {
            instancePath(p);
        }
        b.append("</OBJECTPATH>");
    }

    void instanceName(CimObjectPath p) {
        b.append("<INSTANCENAME");
        attr("CLASSNAME", p.className());
        b.append('>');
        for (var e : p.keys().entrySet()) {
            b.append("<KEYBINDING");
            attr("NAME", e.getKey());
            b.append('>');
            Object v = e.getValue();
            if (v instanceof CimObjectPath) {
                valueReference((CimObjectPath) v);
            } else if (v instanceof Boolean) {
                b.append("<KEYVALUE VALUETYPE=\"boolean\">").append(((Boolean) v) ? "TRUE" : "FALSE").append("</KEYVALUE>");
            } else if (v instanceof Long) {
                b.append("<KEYVALUE VALUETYPE=\"numeric\">").append(v).append("</KEYVALUE>");
            } else {
                b.append("<KEYVALUE VALUETYPE=\"string\">");
                text(String.valueOf(v));
                b.append("</KEYVALUE>");
            }
            b.append("</KEYBINDING>");
        }
        b.append("</INSTANCENAME>");
    }

    // ---- instances ----

    void instance(CimInstance inst, boolean classOrigin) {
        b.append("<INSTANCE");
        attr("CLASSNAME", inst.className());
        b.append('>');
        for (CimProperty p : inst.properties()) {
            property(p, classOrigin);
        }
        b.append("</INSTANCE>");
    }

    private void property(CimProperty p, boolean classOrigin) {
        if (p.type() == CimType.REFERENCE) {
            b.append("<PROPERTY.REFERENCE");
            nameAttr("NAME", p.name());
            if (p.referenceClass() != null) {
                nameAttr("REFERENCECLASS", p.referenceClass());
            }
            origin(p.classOrigin(), p.propagated(), classOrigin);
            b.append('>');
            if (p.value() != null) {
                valueReference((CimObjectPath) p.value());
            }
            b.append("</PROPERTY.REFERENCE>");
        } else if (p.array()) {
            b.append("<PROPERTY.ARRAY");
            nameAttr("NAME", p.name());
            nameAttr("TYPE", p.type().cimName());
            origin(p.classOrigin(), p.propagated(), classOrigin);
            b.append('>');
            if (p.value() != null) {
                valueArray(p.type(), (List<?>) p.value());
            }
            b.append("</PROPERTY.ARRAY>");
        } else {
            b.append("<PROPERTY");
            nameAttr("NAME", p.name());
            nameAttr("TYPE", p.type().cimName());
            origin(p.classOrigin(), p.propagated(), classOrigin);
            if (p.embedded() || p.value() instanceof CimInstance) {
                b.append(" EmbeddedObject=\"instance\"");
            }
            b.append('>');
            if (p.value() != null) {
                value(p.type(), p.value());
            }
            b.append("</PROPERTY>");
        }
    }

    private void origin(String origin, boolean propagated, boolean include) {
        if (include && origin != null) {
            nameAttr("CLASSORIGIN", origin);
            if (propagated) {
                b.append(" PROPAGATED=\"true\"");
            }
        }
    }

    void namedInstance(CimInstance inst, boolean classOrigin) {
        b.append("<VALUE.NAMEDINSTANCE>");
        instanceName(inst.path());
        instance(inst, classOrigin);
        b.append("</VALUE.NAMEDINSTANCE>");
    }

    void objectWithPath(CimInstance inst, boolean classOrigin) {
        b.append("<VALUE.OBJECTWITHPATH>");
        instancePath(inst.path());
        instance(inst, classOrigin);
        b.append("</VALUE.OBJECTWITHPATH>");
    }

    void instanceWithPath(CimInstance inst, boolean classOrigin) {
        b.append("<VALUE.INSTANCEWITHPATH>");
        instancePath(inst.path());
        instance(inst, classOrigin);
        b.append("</VALUE.INSTANCEWITHPATH>");
    }

    // ---- classes ----

    /** A CLASS element; propertyList null means all properties. */
    void cimClass(CimClass c, boolean localOnly, boolean qualifiers, boolean classOrigin, Set<String> propertyList) {
        b.append("<CLASS");
        attr("NAME", c.name());
        if (c.superclass() != null) {
            attr("SUPERCLASS", c.superclass());
        }
        b.append('>');
        if (qualifiers) {
            for (CimClass.Qualifier q : c.qualifiers()) {
                qualifier(q);
            }
        }
        for (CimClass.Property p : c.properties()) {
            if (localOnly && p.propagated()) {
                continue;
            }
            if (propertyList != null && !propertyList.contains(p.name().toLowerCase(java.util.Locale.ROOT))) {
                continue;
            }
            propertyDecl(p, qualifiers, classOrigin);
        }
        for (CimClass.Method m : c.methods()) {
            if (localOnly && m.propagated()) {
                continue;
            }
            method(m, qualifiers, classOrigin);
        }
        b.append("</CLASS>");
    }

    private void qualifier(CimClass.Qualifier q) {
        b.append("<QUALIFIER");
        attr("NAME", q.name());
        attr("TYPE", q.type().cimName());
        b.append('>');
        if (q.value() instanceof List) {
            valueArray(q.type(), (List<?>) q.value());
        } else if (q.value() != null) {
            value(q.type(), q.value());
        }
        b.append("</QUALIFIER>");
    }

    private void propertyDecl(CimClass.Property p, boolean qualifiers, boolean classOrigin) {
        String el = p.type() == CimType.REFERENCE ? "PROPERTY.REFERENCE" : p.array() ? "PROPERTY.ARRAY" : "PROPERTY";
        b.append('<').append(el);
        attr("NAME", p.name());
        if (p.type() == CimType.REFERENCE) {
            attr("REFERENCECLASS", p.referenceClass());
        } else {
            attr("TYPE", p.type().cimName());
        }
        origin(p.classOrigin(), p.propagated(), classOrigin);
        if (p.embeddedInstance() != null && p.type() == CimType.STRING) {
            b.append(" EmbeddedObject=\"").append(p.embeddedInstance().isEmpty() ? "object" : "instance").append('"');
        }
        b.append('>');
        if (qualifiers) {
            for (CimClass.Qualifier q : p.qualifiers()) {
                qualifier(q);
            }
        }
        if (p.defaultValue() != null) {
            if (p.array()) {
                valueArray(p.type(), (List<?>) p.defaultValue());
            } else if (p.type() != CimType.REFERENCE) {
                value(p.type(), p.defaultValue());
            }
        }
        b.append("</").append(el).append('>');
    }

    private void method(CimClass.Method m, boolean qualifiers, boolean classOrigin) {
        b.append("<METHOD");
        attr("NAME", m.name());
        attr("TYPE", m.returnType().cimName());
        origin(m.classOrigin(), m.propagated(), classOrigin);
        b.append('>');
        if (qualifiers) {
            for (CimClass.Qualifier q : m.qualifiers()) {
                qualifier(q);
            }
        }
        for (CimClass.Parameter p : m.parameters()) {
            String el;
            if (p.type() == CimType.REFERENCE) {
                el = p.array() ? "PARAMETER.REFARRAY" : "PARAMETER.REFERENCE";
            } else {
                el = p.array() ? "PARAMETER.ARRAY" : "PARAMETER";
            }
            b.append('<').append(el);
            attr("NAME", p.name());
            if (p.type() == CimType.REFERENCE) {
                attr("REFERENCECLASS", p.referenceClass());
            } else {
                attr("TYPE", p.type().cimName());
            }
            b.append('>');
            // In/Out are always sent: clients (wbemcli) tell input from output parameters by them
            for (CimClass.Qualifier q : p.qualifiers()) {
                if (qualifiers || q.name().equalsIgnoreCase("In") || q.name().equalsIgnoreCase("Out")) {
                    qualifier(q);
                }
            }
            if (CimClass.find(p.qualifiers(), "In") == null) {
                qualifier(new CimClass.Qualifier("In", CimType.BOOLEAN, false, Boolean.TRUE));
            }
            b.append("</").append(el).append('>');
        }
        b.append("</METHOD>");
    }
}
