package io.ferryvm.cim;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A class definition as GetClass returns it: qualifiers, then every property and method including the
 * inherited ones (propagated, with the class that declared them as origin), in declaration order from
 * the root class down.
 */
final class CimClass {
    private final String name;
    private final String superclass;
    private final List<Qualifier> qualifiers;
    private final List<Property> properties;
    private final List<Method> methods;
    /** Properties by lower-case name: instances are built property by property, thousands per request. */
    private final Map<String, Property> byName = new HashMap<>();
    private final Map<String, Property> byExactName = new HashMap<>();
    private final List<Property> keys;

    /** A qualifier value: Boolean, String, Long or a List of those (ValueMap, Values). */
    record Qualifier(String name, CimType type, boolean array, Object value) {}

    /** A property declaration; referenceClass is set for references, defaultValue may be null. */
    record Property(String name, CimType type, boolean array, String referenceClass, List<Qualifier> qualifiers,
            Object defaultValue, String classOrigin, boolean propagated) {
        boolean isKey() {
            return flag(qualifiers, "Key");
        }

        /** The EmbeddedInstance qualifier's class, or null; EmbeddedObject gives "" (any class). */
        String embeddedInstance() {
            Qualifier q = find(qualifiers, "EmbeddedInstance");
            if (q != null) {
                return String.valueOf(q.value());
            }
            return flag(qualifiers, "EmbeddedObject") ? "" : null;
        }

        List<String> valueMap() {
            return strings(qualifiers, "ValueMap");
        }

        List<String> values() {
            return strings(qualifiers, "Values");
        }
    }

    /** A method parameter; In is implied unless the qualifiers say In(false). */
    record Parameter(String name, CimType type, boolean array, String referenceClass, List<Qualifier> qualifiers) {
        boolean isIn() {
            Qualifier q = find(qualifiers, "In");
            return q == null || Boolean.TRUE.equals(q.value());
        }

        boolean isOut() {
            return flag(qualifiers, "Out");
        }

        String embeddedInstance() {
            Qualifier q = find(qualifiers, "EmbeddedInstance");
            return q == null ? null : String.valueOf(q.value());
        }
    }

    record Method(String name, CimType returnType, List<Parameter> parameters, List<Qualifier> qualifiers, String classOrigin,
            boolean propagated) {
        Parameter parameter(String n) {
            for (Parameter p : parameters) {
                if (p.name().equalsIgnoreCase(n)) {
                    return p;
                }
            }
            return null;
        }
    }

    CimClass(String name, String superclass, List<Qualifier> qualifiers, List<Property> properties, List<Method> methods) {
        this.name = name;
        this.superclass = superclass;
        this.qualifiers = List.copyOf(qualifiers);
        this.properties = List.copyOf(properties);
        this.methods = List.copyOf(methods);
        List<Property> k = new ArrayList<>();
        for (Property p : this.properties) {
            byName.put(p.name().toLowerCase(Locale.ROOT), p);
            byExactName.put(p.name(), p);
            if (p.isKey()) {
                k.add(p);
            }
        }
        this.keys = List.copyOf(k);
    }

    String name() {
        return name;
    }

    String superclass() {
        return superclass;
    }

    List<Qualifier> qualifiers() {
        return qualifiers;
    }

    List<Property> properties() {
        return properties;
    }

    List<Method> methods() {
        return methods;
    }

    Property property(String n) {
        Property p = byExactName.get(n); // providers spell names as declared: no lower-casing on the hot path
        return p != null ? p : byName.get(n.toLowerCase(Locale.ROOT));
    }

    Method method(String n) {
        for (Method m : methods) {
            if (m.name().equalsIgnoreCase(n)) {
                return m;
            }
        }
        return null;
    }

    List<Property> keys() {
        return keys;
    }

    boolean isAbstract() {
        return flag(qualifiers, "Abstract");
    }

    boolean isAssociation() {
        return flag(qualifiers, "Association");
    }

    boolean isIndication() {
        return flag(qualifiers, "Indication");
    }

    static Qualifier find(List<Qualifier> qs, String name) {
        for (Qualifier q : qs) {
            if (q.name().equalsIgnoreCase(name)) {
                return q;
            }
        }
        return null;
    }

    static boolean flag(List<Qualifier> qs, String name) {
        Qualifier q = find(qs, name);
        return q != null && Boolean.TRUE.equals(q.value());
    }

    @SuppressWarnings("unchecked")
    static List<String> strings(List<Qualifier> qs, String name) {
        Qualifier q = find(qs, name);
        if (q == null || q.value() == null) {
            return List.of();
        }
        return q.value() instanceof List ? (List<String>) q.value() : List.of(String.valueOf(q.value()));
    }

    /** The Values text for a ValueMap entry of property p ("2" -> "Enabled"), or null. */
    static String valueName(Property p, Object value) {
        List<String> map = p.valueMap();
        List<String> names = p.values();
        String v = String.valueOf(value);
        for (int i = 0; i < map.size() && i < names.size(); i++) {
            if (map.get(i).equals(v)) {
                return names.get(i);
            }
        }
        return null;
    }

    String lowerName() {
        return name.toLowerCase(Locale.ROOT);
    }
}
