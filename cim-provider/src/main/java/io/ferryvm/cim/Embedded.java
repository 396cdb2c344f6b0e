package io.ferryvm.cim;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Embedded instances as clients send them in string parameters: CIM-XML ({@code <INSTANCE ...>}, with
 * or without the EmbeddedObject marker) or MOF ({@code instance of X { ... };}, what cimtest and wbemcli
 * send). The text is parsed with the same locked-down XML reader and limits as a request, then typed
 * against its class; every failure is CIM_ERR_FAILED "Unable to parse embedded object", as libvirt-cim
 * answers.
 */
final class Embedded {
    private static final XmlTree.Limits LIMITS = new XmlTree.Limits(24, 100_000, 32, 1 << 20);

    private Embedded() {}

    /** The typed instance in value (a String or an already decoded CimInstance), which must be a expected (or a subclass). */
    static CimInstance parse(Object value, ClassRepository repo, String ns, String expected) {
        return parse(value, repo, ns, expected, 0);
    }

    private static CimInstance parse(Object value, ClassRepository repo, String ns, String expected, int depth) {
        if (depth >= CimXmlReader.MAX_EMBEDDING) {
            throw failed("embedded instances nest deeper than " + CimXmlReader.MAX_EMBEDDING);
        }
        CimInstance raw;
        Map<String, Mof.Literal> mof = null;
        try {
            if (value instanceof CimInstance) {
                raw = (CimInstance) value;
            } else if (value instanceof String) {
                String text = ((String) value).trim();
                if (text.startsWith("<")) {
                    raw = CimXmlReader.instance(XmlTree.parse(text, LIMITS));
                } else {
                    List<Mof.InstanceDecl> decls = Mof.instances(text);
                    if (decls.size() != 1) {
                        throw failed("expected one instance, found " + decls.size());
                    }
                    raw = new CimInstance(decls.get(0).className(), null, List.of());
                    mof = decls.get(0).values();
                }
            } else {
                throw failed("expected a string holding an instance");
            }
        } catch (XmlTree.MalformedXml e) {
            throw failed(e.getMessage());
        } catch (CimException e) {
            if (e.getMessage().startsWith("Unable to parse embedded object")) {
                throw e;
            }
            throw failed(e.getMessage());
        }
        CimClass cls = repo.find(ns, raw.className());
        if (cls == null) {
            throw failed("no class " + raw.className() + " in " + ns);
        }
        if (expected != null && !repo.isA(ns, cls.name(), expected)) {
            throw failed(cls.name() + " is not a " + expected);
        }
        List<CimProperty> typed = new ArrayList<>();
        try {
            if (mof != null) {
                for (Map.Entry<String, Mof.Literal> e : mof.entrySet()) {
                    CimClass.Property p = declared(cls, e.getKey());
                    typed.add(prop(p, Mof.typed(e.getValue(), p.type(), p.array())));
                }
            } else {
                for (CimProperty given : raw.properties()) {
                    CimClass.Property p = declared(cls, given.name());
                    typed.add(prop(p, retype(given.value(), p)));
                }
            }
        } catch (CimException e) {
            throw failed(e.getMessage());
        }
        return new CimInstance(cls.name(), null, typed);
    }

    private static CimClass.Property declared(CimClass cls, String name) {
        CimClass.Property p = cls.property(name);
        if (p == null) {
            throw failed(cls.name() + " has no property " + name);
        }
        return p;
    }

    private static CimProperty prop(CimClass.Property p, Object v) {
        return new CimProperty(p.name(), p.type(), p.array(), v, p.referenceClass(), p.embeddedInstance() != null,
                p.classOrigin(), p.propagated());
    }

    /** An XML-decoded value (typed by its TYPE attribute, or a string) coerced to the declared type. */
    private static Object retype(Object v, CimClass.Property p) {
        if (v == null) {
            return null;
        }
        if (p.array()) {
            if (!(v instanceof List)) {
                throw new CimException(CimStatus.TYPE_MISMATCH, p.name() + " is an array");
            }
            List<Object> out = new ArrayList<>();
            for (Object o : (List<?>) v) {
                out.add(o == null ? null : p.type().coerce(o instanceof String || o instanceof CimObjectPath ? o : String.valueOf(o)));
            }
            return out;
        }
        if (v instanceof List) {
            throw new CimException(CimStatus.TYPE_MISMATCH, p.name() + " is not an array");
        }
        if (v instanceof String || v instanceof CimObjectPath || v instanceof CimInstance) {
            return p.type().coerce(v);
        }
        return p.type().coerce(p.type() == CimType.STRING ? String.valueOf(v) : v);
    }

    static CimException failed(String why) {
        return new CimException(CimStatus.FAILED, "Unable to parse embedded object: " + why);
    }
}
