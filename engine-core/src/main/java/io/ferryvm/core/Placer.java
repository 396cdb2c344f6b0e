package io.ferryvm.core;

import io.ferryvm.core.host.HostInventory;
import io.ferryvm.core.machine.Binding;
import java.util.UUID;

/**
 * Decides where on this host a VM's vCPUs and memory go. The host asks when a VM starts or an incoming
 * migration is prepared (so a target computes its own placement for its own topology, never copying the
 * source's), and tells it when the VM leaves. numa-scheduler provides the NUMA-aware implementation.
 */
public interface Placer {
    /** Reserves and returns a binding, or throws CoreException RESOURCES naming what does not fit. */
    Binding place(VmSpec spec, HostInventory inventory);

    /** Frees what place reserved for the VM (no-op if nothing was). */
    void release(UUID vm);

    /** Leaves every VM unpinned with the default memory policy. */
    static Placer unpinned() {
        return new Placer() {
            @Override
            public Binding place(VmSpec spec, HostInventory inventory) {
                return Binding.NONE;
            }

            @Override
            public void release(UUID vm) {}
        };
    }
}
