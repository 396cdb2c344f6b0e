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
    private final Map<String, CimProperty> properties;

    CimInstance(String className, CimObjectPath path, Collection<CimProperty> properties) {
        this.className = className;
        this.path = path;
        Map<String, CimProperty> m = new LinkedHashMap<>();
        for (CimProperty p : properties) {
            m.put(p.name().toLowerCase(Locale.ROOT), p);
        }
        this.properties = m;
    }

    String className() {
        return className;
    }

    CimObjectPath path() {
        return path;
    }

    List<CimProperty> properties() {
        return new ArrayList<>(properties.values());
    }

    CimProperty property(String name) {
        return properties.get(name.toLowerCase(Locale.ROOT));
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
        return properties.containsKey(name.toLowerCase(Locale.ROOT));
    }

    CimInstance withPath(CimObjectPath p) {
        return new CimInstance(className, p, properties.values());
    }

    /** Keeps the properties the predicate accepts (PropertyList, DeepInheritance, LocalOnly filtering). */
    CimInstance filter(Predicate<CimProperty> keep) {
        List<CimProperty> out = new ArrayList<>();
        for (CimProperty p : properties.values()) {
            if (keep.test(p)) {
                out.add(p);
            }
        }
        return new CimInstance(className, path, out);
    }

    CimInstance withoutClassOrigin() {
        List<CimProperty> out = new ArrayList<>();
        for (CimProperty p : properties.values()) {
            out.add(p.withoutOrigin());
        }
        return new CimInstance(className, path, out);
    }

    Set<String> propertyNamesLower() {
        return properties.keySet();
    }

    @Override
    public String toString() {
        return "instance of " + className + " " + properties.values().stream().map(p -> p.name() + "=" + p.value()).toList();
    }
}
