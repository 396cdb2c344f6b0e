package io.ferryvm.ovf;

import java.util.List;

/**
 * The envelope dialects Ferry reads, each with the namespace URIs that identify it. Namespaces are matched
 * by URI, never by prefix: oVirt's trailing slash counts as 1.x, VMware's pre-standard URI as 0.9.
 */
public enum OvfVersion {
    V0_9("0.9", List.of("http://www.vmware.com/schema/ovf/1/envelope")),
    V1("1.1", List.of("http://schemas.dmtf.org/ovf/envelope/1", "http://schemas.dmtf.org/ovf/envelope/1/")),
    V2("2.0", List.of("http://schemas.dmtf.org/ovf/envelope/2", "http://schemas.dmtf.org/ovf/envelope/2/"));

    private final String label;
    private final List<String> namespaces;

    OvfVersion(String label, List<String> namespaces) {
        this.label = label;
        this.namespaces = namespaces;
    }

    /** The namespace written on export. */
    public String namespace() {
        return namespaces.get(0);
    }

    List<String> namespaces() {
        return namespaces;
    }

    public String label() {
        return label;
    }

    /** The dialect of an envelope namespace URI, or null when Ferry does not know it. */
    public static OvfVersion ofNamespace(String uri) {
        for (OvfVersion v : values()) {
            if (v.namespaces.contains(uri)) {
                return v;
            }
        }
        return null;
    }
}
