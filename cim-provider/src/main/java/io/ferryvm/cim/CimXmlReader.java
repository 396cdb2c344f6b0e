package io.ferryvm.cim;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Decodes DSP0201 CIM-XML: the request envelope (refusing what DSP0200 says to refuse at the HTTP
 * level), object paths, instances and parameter values. Structure errors inside a parameter are
 * CIM_ERR_INVALID_PARAMETER; an envelope that is not a CIM request is an {@link HttpRefusal}.
 */
final class CimXmlReader {
    /** How deeply embedded instances may nest inside embedded instances. */
    static final int MAX_EMBEDDING = 3;

    private CimXmlReader() {}

    // ---- envelope ----

    static CimRequest request(XmlTree.Node cim) throws HttpRefusal {
        if (!cim.name.equals("CIM")) {
            throw notValid("the root element is " + cim.name + ", not CIM");
        }
        String cimVersion = cim.attr("CIMVERSION");
        String dtdVersion = cim.attr("DTDVERSION");
        if (cimVersion == null || !cimVersion.startsWith("2.")) {
            throw new HttpRefusal(501, "unsupported-cim-version", "CIMVERSION " + cimVersion + " is not supported (2.x is)");
        }
        if (dtdVersion == null || !dtdVersion.startsWith("2.")) {
            throw new HttpRefusal(501, "unsupported-dtd-version", "DTDVERSION " + dtdVersion + " is not supported (2.x is)");
        }
        XmlTree.Node message = cim.onlyChild();
        if (message == null || !message.name.equals("MESSAGE")) {
            throw notValid("CIM must hold one MESSAGE");
        }
        String id = message.attr("ID");
        String protocol = message.attr("PROTOCOLVERSION");
        if (id == null || id.isEmpty() || id.length() > 64) {
            throw notValid("MESSAGE needs an ID of 1-64 characters");
        }
        if (protocol == null || !protocol.startsWith("1.")) {
            throw new HttpRefusal(501, "unsupported-protocol-version", "PROTOCOLVERSION " + protocol + " is not supported (1.x is)");
        }
        XmlTree.Node req = message.onlyChild();
        if (req != null && req.name.equals("MULTIREQ")) {
            throw new HttpRefusal(501, "multiple-requests-unsupported", "MULTIREQ is not supported");
        }
        if (req == null || !req.name.equals("SIMPLEREQ")) {
            throw notValid("MESSAGE must hold one SIMPLEREQ");
        }
        XmlTree.Node call = req.onlyChild();
        if (call == null) {
            throw notValid("SIMPLEREQ must hold one IMETHODCALL or METHODCALL");
        }
        String name = call.attr("NAME");
        if (!Names.isName(name)) {
            throw notValid(call.name + " needs a NAME");
        }
        try {
            if (call.name.equals("IMETHODCALL")) {
                XmlTree.Node lnp = call.child("LOCALNAMESPACEPATH");
                if (lnp == null) {
                    throw notValid("IMETHODCALL " + name + " has no LOCALNAMESPACEPATH");
                }
                Map<String, XmlTree.Node> params = new LinkedHashMap<>();
                for (XmlTree.Node p : call.children) {
                    if (p.name.equals("IPARAMVALUE")) {
                        String pn = p.attr("NAME");
                        if (!Names.isName(pn)) {
                            throw notValid("IPARAMVALUE without a NAME");
                        }
                        if (params.put(pn.toLowerCase(Locale.ROOT), p) != null) {
                            throw notValid("parameter " + pn + " given twice");
                        }
                    } else if (!p.name.equals("LOCALNAMESPACEPATH")) {
                        throw notValid("unexpected " + p.name + " in IMETHODCALL");
                    }
                }
                return new CimRequest(id, name, true, localNamespace(lnp), null, params, List.of());
            }
            if (call.name.equals("METHODCALL")) {
                CimObjectPath target;
                XmlTree.Node lip = call.child("LOCALINSTANCEPATH");
                XmlTree.Node lcp = call.child("LOCALCLASSPATH");
                if (lip != null) {
                    target = localInstancePath(lip);
                } else if (lcp != null) {
                    target = CimObjectPath.ofClass(localNamespace(required(lcp, "LOCALNAMESPACEPATH")),
                            className(required(lcp, "CLASSNAME")));
                } else {
                    throw notValid("METHODCALL " + name + " has no LOCALINSTANCEPATH or LOCALCLASSPATH");
                }
                List<XmlTree.Node> params = new ArrayList<>();
                for (XmlTree.Node p : call.children) {
                    if (p.name.equals("PARAMVALUE")) {
                        if (!Names.isName(p.attr("NAME"))) {
                            throw notValid("PARAMVALUE without a NAME");
                        }
                        params.add(p);
                    } else if (!p.name.equals("LOCALINSTANCEPATH") && !p.name.equals("LOCALCLASSPATH")) {
                        throw notValid("unexpected " + p.name + " in METHODCALL");
                    }
                }
                return new CimRequest(id, name, false, target.namespace(), target, Map.of(), params);
            }
        } catch (CimException e) {
            throw notValid(e.getMessage());
        }
        throw notValid("SIMPLEREQ holds " + call.name + ", not IMETHODCALL or METHODCALL");
    }

    private static HttpRefusal notValid(String why) {
        return new HttpRefusal(400, "request-not-valid", why);
    }

    // ---- paths ----

    static String localNamespace(XmlTree.Node lnp) {
        StringBuilder ns = new StringBuilder();
        for (XmlTree.Node n : lnp.children) {
            if (!n.name.equals("NAMESPACE") || n.attr("NAME") == null) {
                throw invalid("LOCALNAMESPACEPATH may hold only NAMESPACE elements with a NAME");
            }
            if (ns.length() > 0) {
                ns.append('/');
            }
            ns.append(n.attr("NAME"));
        }
        String s = Namespaces.normalize(ns.toString());
        if (!Names.isNamespace(s)) {
            throw new CimException(CimStatus.INVALID_NAMESPACE, "'" + CimObjectPath.abbreviate(s) + "' is not a namespace name");
        }
        return s;
    }

    static String className(XmlTree.Node cn) {
        if (!cn.name.equals("CLASSNAME")) {
            throw invalid("expected CLASSNAME, found " + cn.name);
        }
        String n = cn.attr("NAME");
        if (!Names.isName(n)) {
            throw invalid("'" + CimObjectPath.abbreviate(n) + "' is not a class name");
        }
        return n;
    }

    static CimObjectPath localInstancePath(XmlTree.Node lip) {
        String ns = localNamespace(required(lip, "LOCALNAMESPACEPATH"));
        return instanceName(required(lip, "INSTANCENAME")).withNamespace(ns);
    }

    static CimObjectPath instancePath(XmlTree.Node ip) {
        XmlTree.Node nsp = required(ip, "NAMESPACEPATH");
        XmlTree.Node host = nsp.child("HOST");
        String ns = localNamespace(required(nsp, "LOCALNAMESPACEPATH"));
        return instanceName(required(ip, "INSTANCENAME")).withNamespace(ns).withHost(host == null ? null : host.text().trim());
    }

    static CimObjectPath instanceName(XmlTree.Node in) {
        if (!in.name.equals("INSTANCENAME")) {
            throw invalid("expected INSTANCENAME, found " + in.name);
        }
        String cls = in.attr("CLASSNAME");
        if (!Names.isName(cls)) {
            throw invalid("INSTANCENAME needs a CLASSNAME");
        }
        Map<String, Object> keys = new LinkedHashMap<>();
        for (XmlTree.Node kb : in.children) {
            if (kb.name.equals("KEYBINDING")) {
                String kn = kb.attr("NAME");
                if (!Names.isName(kn)) {
                    throw invalid("KEYBINDING without a NAME");
                }
                XmlTree.Node v = kb.onlyChild();
                if (v == null) {
                    throw invalid("KEYBINDING " + kn + " needs one KEYVALUE or VALUE.REFERENCE");
                }
                if (keys.keySet().stream().anyMatch(k -> k.equalsIgnoreCase(kn))) {
                    throw invalid("key " + kn + " given twice");
                }
                keys.put(kn, v.name.equals("VALUE.REFERENCE") ? reference(v) : keyValue(v));
            } else if (kb.name.equals("KEYVALUE") || kb.name.equals("VALUE.REFERENCE")) {
                throw invalid("unnamed key values are not supported; use KEYBINDING");
            } else {
                throw invalid("unexpected " + kb.name + " in INSTANCENAME");
            }
        }
        return new CimObjectPath(null, null, cls, keys);
    }

    private static Object keyValue(XmlTree.Node kv) {
        if (!kv.name.equals("KEYVALUE")) {
            throw invalid("expected KEYVALUE, found " + kv.name);
        }
        String type = kv.attr("TYPE");
        String vt = kv.attr("VALUETYPE");
        String text = kv.text();
        if (type != null) {
            CimType t = CimType.of(type);
            return t == CimType.STRING || t == CimType.CHAR16 || t == CimType.DATETIME ? text : t.parse(text);
        }
        if (vt == null || vt.equals("string")) {
            return text;
        }
        if (vt.equals("boolean")) {
            return CimType.BOOLEAN.parse(text);
        }
        if (vt.equals("numeric")) {
            return CimType.SINT64.parse(text);
        }
        throw invalid("KEYVALUE VALUETYPE '" + CimObjectPath.abbreviate(vt) + "' is none of string, boolean, numeric");
    }

    /** A VALUE.REFERENCE: instance or class path, with or without namespace. */
    static CimObjectPath reference(XmlTree.Node vr) {
        XmlTree.Node c = vr.onlyChild();
        if (c == null) {
            throw invalid("VALUE.REFERENCE needs exactly one path");
        }
        switch (c.name) {
            case "INSTANCEPATH":
                return instancePath(c);
            case "LOCALINSTANCEPATH":
                return localInstancePath(c);
            case "INSTANCENAME":
                return instanceName(c);
            case "CLASSPATH": {
                XmlTree.Node nsp = required(c, "NAMESPACEPATH");
                return CimObjectPath.ofClass(localNamespace(required(nsp, "LOCALNAMESPACEPATH")), className(required(c, "CLASSNAME")));
            }
            case "LOCALCLASSPATH":
                return CimObjectPath.ofClass(localNamespace(required(c, "LOCALNAMESPACEPATH")), className(required(c, "CLASSNAME")));
            case "CLASSNAME":
                return CimObjectPath.ofClass(null, className(c));
            default:
                throw invalid("unexpected " + c.name + " in VALUE.REFERENCE");
        }
    }

    static XmlTree.Node required(XmlTree.Node parent, String child) {
        XmlTree.Node c = parent.child(child);
        if (c == null) {
            throw invalid(parent.name + " has no " + child);
        }
        return c;
    }

    static CimException invalid(String why) {
        return new CimException(CimStatus.INVALID_PARAMETER, why);
    }

    // ---- instances ----

    /** An INSTANCE element; property types come from its TYPE attributes (string when absent). */
    static CimInstance instance(XmlTree.Node in) {
        if (!in.name.equals("INSTANCE")) {
            throw invalid("expected INSTANCE, found " + in.name);
        }
        String cls = in.attr("CLASSNAME");
        if (!Names.isName(cls)) {
            throw invalid("INSTANCE needs a CLASSNAME");
        }
        List<CimProperty> props = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (XmlTree.Node p : in.children) {
            if (p.name.equals("QUALIFIER")) {
                continue;
            }
            String pn = p.attr("NAME");
            if (!Names.isName(pn)) {
                throw invalid(p.name + " without a NAME in INSTANCE of " + cls);
            }
            if (!seen.add(pn.toLowerCase(Locale.ROOT))) {
                throw invalid("property " + pn + " given twice in INSTANCE of " + cls);
            }
            switch (p.name) {
                case "PROPERTY": {
                    CimType t = p.attr("TYPE") == null ? CimType.STRING : CimType.of(p.attr("TYPE"));
                    XmlTree.Node v = p.child("VALUE");
                    boolean embedded = p.attr("EmbeddedObject") != null;
                    props.add(new CimProperty(pn, t, false, v == null ? null : t == CimType.STRING ? v.text() : t.parse(v.text()),
                            null, embedded, null, false));
                    break;
                }
                case "PROPERTY.ARRAY": {
                    CimType t = p.attr("TYPE") == null ? CimType.STRING : CimType.of(p.attr("TYPE"));
                    XmlTree.Node va = p.child("VALUE.ARRAY");
                    props.add(new CimProperty(pn, t, true, va == null ? null : valueArray(va, t), null, false, null, false));
                    break;
                }
                case "PROPERTY.REFERENCE": {
                    XmlTree.Node vr = p.child("VALUE.REFERENCE");
                    props.add(new CimProperty(pn, CimType.REFERENCE, false, vr == null ? null : reference(vr),
                            p.attr("REFERENCECLASS"), false, null, false));
                    break;
                }
                default:
                    throw invalid("unexpected " + p.name + " in INSTANCE of " + cls);
            }
        }
        return new CimInstance(cls, null, props);
    }

    static List<Object> valueArray(XmlTree.Node va, CimType t) {
        List<Object> out = new ArrayList<>();
        for (XmlTree.Node v : va.children) {
            if (v.name.equals("VALUE")) {
                out.add(t == CimType.STRING ? v.text() : t.parse(v.text()));
            } else if (v.name.equals("VALUE.NULL")) {
                out.add(null);
            } else {
                throw invalid("unexpected " + v.name + " in VALUE.ARRAY");
            }
        }
        return out;
    }

    // ---- untyped parameter values ----

    /**
     * The value inside an IPARAMVALUE or PARAMVALUE before it is typed against a declaration: String
     * (VALUE), List of String (VALUE.ARRAY, null for VALUE.NULL), CimObjectPath (VALUE.REFERENCE,
     * INSTANCENAME, CLASSNAME), List of CimObjectPath (VALUE.REFARRAY), CimInstance (INSTANCE), or null.
     */
    static Object rawValue(XmlTree.Node param) {
        if (param.children.isEmpty()) {
            return null;
        }
        if (param.children.size() > 1) {
            throw invalid(param.name + " " + param.attr("NAME") + " holds more than one value");
        }
        XmlTree.Node v = param.children.get(0);
        switch (v.name) {
            case "VALUE":
                return v.text();
            case "VALUE.ARRAY": {
                List<Object> out = new ArrayList<>();
                for (XmlTree.Node e : v.children) {
                    if (e.name.equals("VALUE")) {
                        out.add(e.text());
                    } else if (e.name.equals("VALUE.NULL")) {
                        out.add(null);
                    } else {
                        throw invalid("unexpected " + e.name + " in VALUE.ARRAY");
                    }
                }
                return out;
            }
            case "VALUE.REFERENCE":
                return reference(v);
            case "VALUE.REFARRAY": {
                List<Object> out = new ArrayList<>();
                for (XmlTree.Node e : v.children) {
                    if (e.name.equals("VALUE.REFERENCE")) {
                        out.add(reference(e));
                    } else if (e.name.equals("VALUE.NULL")) {
                        out.add(null);
                    } else {
                        throw invalid("unexpected " + e.name + " in VALUE.REFARRAY");
                    }
                }
                return out;
            }
            case "INSTANCENAME":
                return instanceName(v);
            case "CLASSNAME":
                return CimObjectPath.ofClass(null, className(v));
            case "INSTANCE":
                return instance(v);
            case "VALUE.NAMEDINSTANCE": {
                CimObjectPath path = instanceName(required(v, "INSTANCENAME"));
                return instance(required(v, "INSTANCE")).withPath(path);
            }
            default:
                throw invalid("unexpected " + v.name + " in " + param.name);
        }
    }
}
