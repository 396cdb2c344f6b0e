package io.ferryvm.migration;

import java.util.Objects;

/** Where a prepared target listens: a transport name and an address it understands ("127.0.0.1:40123"). */
public record Endpoint(String transport, String address) {
    public Endpoint {
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(address, "address");
    }

    @Override
    public String toString() {
        return transport + ":" + address;
    }
}
