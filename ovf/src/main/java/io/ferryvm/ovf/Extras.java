package io.ferryvm.ovf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What an element carries beyond the modelled fields: its ovf:required flag (null when absent: the default
 * is true), attributes Ferry does not model (Clark keys, e.g. {@code {http://www.vmware.com/schema/ovf}osType}),
 * child elements it does not model (vendor extensions such as vmw:Config or vbox:Machine), and its location.
 * Kept so that read, write and read again loses nothing.
 */
public record Extras(Boolean required, Map<String, String> attributes, List<XmlNode> elements, Location at) {
    public static final Extras NONE = new Extras(null, Map.of(), List.of(), Location.NONE);

    public Extras {
        attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
        elements = List.copyOf(elements);
        at = at == null ? Location.NONE : at;
    }

    /** ovf:required, which defaults to true (DSP8023). */
    public boolean isRequired() {
        return required == null || required;
    }
}
