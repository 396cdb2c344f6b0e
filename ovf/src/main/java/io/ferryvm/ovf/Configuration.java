package io.ferryvm.ovf;

/** A DeploymentOptionSection/Configuration: an id that Items and Property values select, and whether it is the default. */
public record Configuration(String id, boolean isDefault, Msg label, Msg description, Extras x) {
    public Configuration {
        label = label == null ? Msg.EMPTY : label;
        description = description == null ? Msg.EMPTY : description;
        x = x == null ? Extras.NONE : x;
    }
}
