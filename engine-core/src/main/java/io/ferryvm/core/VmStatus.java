package io.ferryvm.core;

/**
 * A VM's lifecycle state, after the CIM state model (DSP1057): defined but never started, running,
 * paused (vCPUs stopped, memory kept), stopped (powered off), or migrating (on the source: the guest
 * may still run; on the target: memory arriving).
 */
public enum VmStatus {
    DEFINED(3),
    RUNNING(2),
    PAUSED(9),
    STOPPED(3),
    MIGRATING(2);

    private final int cimEnabledState;

    VmStatus(int cimEnabledState) {
        this.cimEnabledState = cimEnabledState;
    }

    /** CIM_EnabledLogicalElement.EnabledState: 2 Enabled, 3 Disabled, 9 Quiesce. */
    public int cimEnabledState() {
        return cimEnabledState;
    }

    /** True when the VM holds guest memory (and vCPU threads) on this host. */
    public boolean isActive() {
        return this == RUNNING || this == PAUSED || this == MIGRATING;
    }
}
