package io.ferryvm.cim;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The classes each namespace serves, read from the MOF files in this jar at start-up and resolved once:
 * every class carries its inherited properties and methods (overrides merge the parent's qualifiers),
 * so lookups never walk the hierarchy. Immutable after construction, shared by all requests.
 */
final class ClassRepository {
    private static final List<String> COMMON = List.of("cim_schema.mof", "ferry_shared.mof");
    private static final Map<String, List<String>> FILES = Map.of(
            Names.VIRTUALIZATION, List.of("ferry_virtualization.mof"),
            Names.INTEROP, List.of("ferry_interop.mof"));

    /** Class-level qualifiers a subclass inherits (DSP0004: Association and Indication propagate, Abstract does not). */
    private static final Set<String> INHERITED_CLASS_QUALIFIERS = Set.of("association", "indication");

    private final Map<String, Map<String, CimClass>> namespaces = new LinkedHashMap<>();

    private ClassRepository() {}

    static ClassRepository load() {
        ClassRepository repo = new ClassRepository();
        for (Map.Entry<String, List<String>> ns : new java.util.TreeMap<>(FILES).entrySet()) {
            List<Mof.ClassDecl> decls = new ArrayList<>();
            for (String f : COMMON) {
                decls.addAll(Mof.classes(resource(f)));
            }
            for (String f : ns.getValue()) {
                decls.addAll(Mof.classes(resource(f)));
            }
            repo.namespaces.put(ns.getKey(), resolve(decls, ns.getKey()));
        }
        return repo;
    }

    private static String resource(String name) {
        try (InputStream in = ClassRepository.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("schema file " + name + " is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read schema file " + name, e);
        }
    }

    private static Map<String, CimClass> resolve(List<Mof.ClassDecl> decls, String ns) {
        Map<String, Mof.ClassDecl> byName = new HashMap<>();
        for (Mof.ClassDecl d : decls) {
            if (byName.put(lower(d.name()), d) != null) {
                throw new IllegalStateException("class " + d.name() + " is declared twice in " + ns);
            }
        }
        Map<String, CimClass> out = new LinkedHashMap<>();
        for (Mof.ClassDecl d : decls) {
            resolveOne(d, byName, out, 0);
        }
        return out;
    }

    private static CimClass resolveOne(Mof.ClassDecl d, Map<String, Mof.ClassDecl> decls, Map<String, CimClass> done, int depth) {
        CimClass known = done.get(lower(d.name()));
        if (known != null) {
            return known;
        }
        if (depth > 32) {
            throw new IllegalStateException("class hierarchy of " + d.name() + " is circular");
        }
        List<CimClass.Qualifier> quals = new ArrayList<>();
        List<CimClass.Property> props = new ArrayList<>();
        List<CimClass.Method> methods = new ArrayList<>();
        if (d.superclass() != null) {
            Mof.ClassDecl sd = decls.get(lower(d.superclass()));
            if (sd == null) {
                throw new IllegalStateException("class " + d.name() + " extends unknown class " + d.superclass());
            }
            CimClass sup = resolveOne(sd, decls, done, depth + 1);
            for (CimClass.Qualifier q : sup.qualifiers()) {
                if (INHERITED_CLASS_QUALIFIERS.contains(lower(q.name()))) {
                    quals.add(q);
                }
            }
            for (CimClass.Property p : sup.properties()) {
                props.add(new CimClass.Property(p.name(), p.type(), p.array(), p.referenceClass(), p.qualifiers(), p.defaultValue(),
                        p.classOrigin(), true));
            }
            for (CimClass.Method m : sup.methods()) {
                methods.add(new CimClass.Method(m.name(), m.returnType(), m.parameters(), m.qualifiers(), m.classOrigin(), true));
            }
        }
        for (CimClass.Qualifier q : d.qualifiers()) {
            quals.removeIf(x -> x.name().equalsIgnoreCase(q.name()));
            quals.add(q);
        }
        for (CimClass.Property p : d.properties()) {
            int at = indexOf(props, p.name());
            if (at >= 0) {
                CimClass.Property parent = props.get(at);
                if (parent.type() != p.type() || parent.array() != p.array()) {
                    throw new IllegalStateException(d.name() + "." + p.name() + " overrides with another type");
                }
                CimClass.Property merged = new CimClass.Property(p.name(), p.type(), p.array(), p.referenceClass(),
                        merge(parent.qualifiers(), p.qualifiers()), p.defaultValue() != null ? p.defaultValue() : parent.defaultValue(),
                        d.name(), false);
                if (merged.isKey() && !parent.isKey()) {
                    // a property made a key here takes its place among this class's keys (CIM_System: CreationClassName, Name)
                    props.remove(at);
                    props.add(merged);
                } else {
                    props.set(at, merged);
                }
            } else {
                props.add(p);
            }
        }
        for (CimClass.Method m : d.methods()) {
            methods.removeIf(x -> x.name().equalsIgnoreCase(m.name()));
            methods.add(m);
        }
        CimClass c = new CimClass(d.name(), d.superclass(), quals, props, methods);
        if (c.isAssociation() && c.properties().stream().noneMatch(p -> p.type() == CimType.REFERENCE)) {
            throw new IllegalStateException("association " + d.name() + " has no references");
        }
        done.put(lower(d.name()), c);
        return c;
    }

    private static List<CimClass.Qualifier> merge(List<CimClass.Qualifier> parent, List<CimClass.Qualifier> own) {
        List<CimClass.Qualifier> out = new ArrayList<>(parent);
        for (CimClass.Qualifier q : own) {
            if (q.name().equalsIgnoreCase("Override")) {
                continue;
            }
            out.removeIf(x -> x.name().equalsIgnoreCase(q.name()));
            out.add(q);
        }
        return out;
    }

    private static int indexOf(List<CimClass.Property> props, String name) {
        for (int i = 0; i < props.size(); i++) {
            if (props.get(i).name().equalsIgnoreCase(name)) {
                return i;
            }
        }
        return -1;
    }

    private static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    // ---- queries ----

    Set<String> namespaceNames() {
        return namespaces.keySet();
    }

    boolean hasNamespace(String ns) {
        return ns != null && namespaces.containsKey(ns);
    }

    /** The class, or null. */
    CimClass find(String ns, String name) {
        Map<String, CimClass> m = namespaces.get(ns);
        return m == null || name == null ? null : m.get(lower(name));
    }

    /** The class, or INVALID_CLASS. */
    CimClass get(String ns, String name) {
        CimClass c = find(ns, name);
        if (c == null) {
            throw new CimException(CimStatus.INVALID_CLASS, "no class " + name + " in namespace " + ns);
        }
        return c;
    }

    /** True when sub is sup or derives from it (names case-insensitive). */
    boolean isA(String ns, String sub, String sup) {
        CimClass c = find(ns, sub);
        while (c != null) {
            if (c.name().equalsIgnoreCase(sup)) {
                return true;
            }
            c = c.superclass() == null ? null : find(ns, c.superclass());
        }
        return false;
    }

    /** Direct subclasses of name (or the root classes when name is null); all descendants when deep. */
    List<CimClass> subclasses(String ns, String name, boolean deep) {
        List<CimClass> out = new ArrayList<>();
        Collection<CimClass> all = namespaces.getOrDefault(ns, Map.of()).values();
        for (CimClass c : all) {
            boolean direct = name == null ? c.superclass() == null : c.superclass() != null && c.superclass().equalsIgnoreCase(name);
            if (direct) {
                out.add(c);
                if (deep) {
                    out.addAll(subclasses(ns, c.name(), true));
                }
            }
        }
        return out;
    }

    Collection<CimClass> all(String ns) {
        return namespaces.getOrDefault(ns, Map.of()).values();
    }
}
