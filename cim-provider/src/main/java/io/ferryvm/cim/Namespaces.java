package io.ferryvm.cim;

/** Namespace names as clients write them ("root/virtualization", "/root/virtualization/", "root\\interop"). */
final class Namespaces {
    private Namespaces() {}

    static String normalize(String ns) {
        String n = ns.trim().replace('\\', '/');
        while (n.startsWith("/")) {
            n = n.substring(1);
        }
        while (n.endsWith("/")) {
            n = n.substring(0, n.length() - 1);
        }
        return n;
    }
}
