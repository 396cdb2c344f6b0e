package io.ferryvm.ovf;

import java.util.List;

/**
 * A ProductSection/Property: key, type (string, boolean, uint8..uint64, sint8..sint64, real32, real64),
 * qualifiers (e.g. {@code MinLen(1),MaxLen(6)} or {@code ValueMap{"a","b"}}), default value, whether the
 * user may set it, whether it is a password, label and description, per-configuration values, and the
 * Category heading it appears under.
 */
public record Property(String key, String type, String qualifiers, String value, boolean userConfigurable,
        boolean password, Msg label, Msg description, List<Value> values, String category, Extras x) {

    /** A Property/Value chosen by a deployment configuration. */
    public record Value(String value, String configuration) {}

    public Property {
        type = type == null ? "string" : type;
        qualifiers = qualifiers == null ? "" : qualifiers;
        value = value == null ? "" : value;
        label = label == null ? Msg.EMPTY : label;
        description = description == null ? Msg.EMPTY : description;
        values = List.copyOf(values);
        category = category == null ? "" : category;
        x = x == null ? Extras.NONE : x;
    }

    /** The default for a deployment configuration: its Value if it has one, else ovf:value. */
    public String defaultFor(String configuration) {
        if (configuration != null) {
            for (Value v : values) {
                if (java.util.Arrays.asList(v.configuration.split("\\s+")).contains(configuration)) {
                    return v.value;
                }
            }
        }
        return value;
    }
}
