package io.ferryvm.core;

import java.util.regex.Pattern;

/** A virtual network card on a named network, with an optional MAC address and a device model. */
public record NicSpec(String name, String network, String mac, String model) {
    private static final Pattern MAC = Pattern.compile("([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}");

    public NicSpec {
        VmSpec.requireName("NIC name", name);
        if (network == null || network.isBlank()) {
            throw new IllegalArgumentException("NIC " + name + ": network must be named");
        }
        if (mac != null && !mac.isEmpty() && !MAC.matcher(mac).matches()) {
            throw new IllegalArgumentException("NIC " + name + ": MAC address '" + mac + "' is not of the form 52:54:00:12:34:56");
        }
        mac = mac == null ? "" : mac.toLowerCase(java.util.Locale.ROOT);
        model = model == null || model.isBlank() ? "virtio" : model;
    }
}
