package io.ferryvm.cluster.agent;

import io.ferryvm.core.VmSpec;
import java.util.HashMap;
import java.util.Map;

/**
 * A VM's incarnation number, kept in its definition's metadata ({@value #KEY}): bumped whenever the VM
 * is brought up on another host (HA restart, incoming migration). When two hosts hold a definition of
 * the same VM and neither runs it (a host came back after its VMs were restarted elsewhere), the higher
 * epoch is the current one and the other copy is stale.
 */
public final class Epochs {
    public static final String KEY = "ferry.epoch";

    private Epochs() {}

    public static long of(VmSpec spec) {
        try {
            return Long.parseLong(spec.metadata().getOrDefault(KEY, "0"));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    public static VmSpec next(VmSpec spec) {
        Map<String, String> m = new HashMap<>(spec.metadata());
        m.put(KEY, Long.toString(of(spec) + 1));
        return spec.withOs(spec.osType(), m);
    }
}
