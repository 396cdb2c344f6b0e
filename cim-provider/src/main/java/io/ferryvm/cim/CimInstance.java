package io.ferryvm.cim;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * An instance: its class name, its path (null for an embedded or new instance) and its properties in
 * declaration order, looked up case-insensitively. Immutable; the "with" methods copy.
 */
final class CimInstance {
    private final String className;
    private final CimObjectPath path;
    private final List<CimProperty> list;
    /** By lower-case name, built on the first lookup: most instances are only written out. */
    private Map<String, CimProperty> byName;

    CimInstance(String className, CimObjectPath path, Collection<CimProperty> properties) {
        this.className = className;
        this.path = path;
        Map<String, CimProperty> m = new LinkedHashMap<>();
        for (CimProperty p : properties) {
            m.put(p.name().toLowerCase(Locale.ROOT), p); // a later duplicate replaces an earlier one
        }
        this.list = List.copyOf(m.values());
        this.byName = m;
    }

    /** An instance of properties already distinct by name (built against a class). */
    private CimInstance(String className, CimObjectPath path, List<CimProperty> distinct) {
        this.className = className;
        this.path = path;
        this.list = distinct;
    }

    static CimInstance ofDistinct(String className, CimObjectPath path, List<CimProperty> distinct) {
        return new CimInstance(className, path, List.copyOf(distinct));
    }

    private Map<String, CimProperty> map() {
        Map<String, CimProperty> m = byName;
        if (m == null) {
            m = new LinkedHashMap<>();
            for (CimProperty p : list) {
                m.put(p.name().toLowerCase(Locale.ROOT), p);
            }
            byName = m;
        }
        return m;
    }

    String className() {
        return className;
    }

    CimObjectPath path() {
        return path;
    }

    List<CimProperty> properties() {
        return list;
    }

    CimProperty property(String name) {
        return map().get(name.toLowerCase(Locale.ROOT));
    }

    /** The value of a property, or null if NULL or absent. */
    Object value(String name) {
        CimProperty p = property(name);
        return p == null ? null : p.value();
    }

    String string(String name) {
        Object v = value(name);
        return v == null ? null : String.valueOf(v);
    }

    Long integer(String name) {
        Object v = value(name);
        return v instanceof Long ? (Long) v : null;
    }

    boolean has(String name) {
        return map().containsKey(name.toLowerCase(Locale.ROOT));
    }

    CimInstance withPath(CimObjectPath p) {
        return new CimInstance(className, p, list);
    }

    /** Keeps the properties the predicate accepts (PropertyList, DeepInheritance, LocalOnly filtering). */
    CimInstance filter(Predicate<CimProperty> keep) {
        List<CimProperty> out = new ArrayList<>();
        for (CimProperty p : list) {
            if (keep.test(p)) {
                out.add(p);
            }
        }
        return new CimInstance(className, path, List.copyOf(out));
    }

    CimInstance withoutClassOrigin() {
        List<CimProperty> out = new ArrayList<>();
        for (CimProperty p : list) {
            out.add(p.withoutOrigin());
        }
        return new CimInstance(className, path, List.copyOf(out));
    }

    Set<String> propertyNamesLower() {
        return map().keySet();
    }

    @Override
    public String toString() {
        return "instance of " + className + " " + list.stream().map(p -> p.name() + "=" + p.value()).toList();
    }
}
