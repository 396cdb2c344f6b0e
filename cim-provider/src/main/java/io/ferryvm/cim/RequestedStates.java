package io.ferryvm.cim;

import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The RequestedState of each VM (DSP1057): the last state a client asked for through
 * RequestStateChange, valid while the VM is still in the state that request produced; once the VM
 * changed by other means (the REST API, a migration, HA) it reads 12, Not Applicable, as the CIM
 * model says for a state no request explains.
 */
final class RequestedStates {
    private record Entry(int requested, int resulting) {}

    private final Map<UUID, Entry> entries = new ConcurrentHashMap<>();

    void record(UUID vm, int requested, int resultingEnabledState) {
        entries.put(vm, new Entry(requested, resultingEnabledState));
    }

    int of(UUID vm, int enabledState) {
        Entry e = entries.get(vm);
        return e != null && e.resulting() == enabledState ? e.requested() : 12;
    }

    void forget(UUID vm) {
        entries.remove(vm);
    }
}
