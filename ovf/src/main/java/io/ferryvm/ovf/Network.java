package io.ferryvm.ovf;

/** A NetworkSection/Network: the logical network name Items connect to, and its description. */
public record Network(String name, Msg description, Extras x) {
    public Network {
        description = description == null ? Msg.EMPTY : description;
        x = x == null ? Extras.NONE : x;
    }
}
