package io.ferryvm.cim;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Builds an instance property by property against its class: every name must be declared and every
 * value is coerced to the declared type (a misspelt property fails the first test that builds it),
 * and the path is made from the key properties.
 */
final class InstanceBuilder {
    private final CimClass cls;
    private final String namespace;
    private final Map<CimClass.Property, CimProperty> values = new java.util.IdentityHashMap<>();

    InstanceBuilder(CimClass cls, String namespace) {
        this.cls = cls;
        this.namespace = namespace;
    }

    InstanceBuilder set(String name, Object value) {
        CimClass.Property p = cls.property(name);
        if (p == null) {
            throw new IllegalStateException(cls.name() + " has no property " + name);
        }
        Object v;
        if (value == null) {
            v = null;
        } else if (p.array()) {
            List<Object> items = new ArrayList<>();
            for (Object o : (List<?>) value) {
                items.add(p.type().coerce(o));
            }
            v = List.copyOf(items);
        } else {
            v = p.type().coerce(value);
        }
        values.put(p, new CimProperty(p.name(), p.type(), p.array(), v, p.referenceClass(),
                p.embeddedInstance() != null, p.classOrigin(), p.propagated()));
        return this;
    }

    CimInstance build() {
        CimObjectPath.Builder path = CimObjectPath.builder(namespace, cls.name());
        for (CimClass.Property k : cls.keys()) {
            CimProperty v = values.get(k);
            if (v == null || v.value() == null) {
                throw new IllegalStateException(cls.name() + " instance without key " + k.name());
            }
            path.key(k.name(), v.value());
        }
        List<CimProperty> ordered = new ArrayList<>();
        for (CimClass.Property p : cls.properties()) { // declaration order, as clients expect
            CimProperty v = values.get(p);
            if (v != null) {
                ordered.add(v);
            }
        }
        return CimInstance.ofDistinct(cls.name(), path.build(), ordered);
    }
}
