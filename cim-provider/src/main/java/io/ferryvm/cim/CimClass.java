package io.ferryvm.cim;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A class definition as GetClass returns it: qualifiers, then every property and method including the
 * inherited ones (propagated, with the class that declared them as origin), in declaration order from
 * the root class down.
 */
record CimClass(String name, String superclass, List<Qualifier> qualifiers, List<Property> properties, List<Method> methods) {

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

    CimClass {
        qualifiers = List.copyOf(qualifiers);
        properties = List.copyOf(properties);
        methods = List.copyOf(methods);
    }

    Property property(String n) {
        for (Property p : properties) {
            if (p.name().equalsIgnoreCase(n)) {
                return p;
            }
        }
        return null;
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
        List<Property> out = new ArrayList<>();
        for (Property p : properties) {
            if (p.isKey()) {
                out.add(p);
            }
        }
        return out;
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
