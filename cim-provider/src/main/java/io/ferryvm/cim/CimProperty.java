package io.ferryvm.cim;

/**
 * One property of an instance: name, type, array flag and value (null = NULL), plus what the XML
 * encoding needs: the referenced class of a reference, whether a string holds an embedded instance,
 * and where the property was declared (CLASSORIGIN).
 */
record CimProperty(String name, CimType type, boolean array, Object value, String referenceClass, boolean embedded,
        String classOrigin, boolean propagated) {

    CimProperty withValue(Object v) {
        return new CimProperty(name, type, array, v, referenceClass, embedded, classOrigin, propagated);
    }

    CimProperty withoutOrigin() {
        return new CimProperty(name, type, array, value, referenceClass, embedded, null, false);
    }
}
