package io.ferryvm.cim;

import java.util.regex.Pattern;

/** CIM names (classes, properties, methods, qualifiers, namespaces) and the namespaces Ferry serves. */
final class Names {
    static final String VIRTUALIZATION = "root/virtualization";
    static final String INTEROP = "root/interop";

    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,255}");
    private static final Pattern NAMESPACE = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,63}(/[A-Za-z_][A-Za-z0-9_]{0,63}){0,7}");

    private Names() {}

    static boolean isName(String s) {
        return s != null && NAME.matcher(s).matches();
    }

    static boolean isNamespace(String s) {
        return s != null && NAMESPACE.matcher(s).matches();
    }
}
