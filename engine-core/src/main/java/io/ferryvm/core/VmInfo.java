package io.ferryvm.core;

import io.ferryvm.core.machine.Binding;
import java.util.UUID;

/** A snapshot of one VM on a host, for listings and APIs; dirtyRateMiBps is the guest's recent page-write rate. */
public record VmInfo(UUID id, String name, VmStatus status, int vcpus, long memoryBytes, String program, long steps,
        int throttlePercent, Binding binding, boolean bindingApplied, String serialTail, double dirtyRateMiBps) {

    /** A VM that is not running (no dirty rate). */
    public VmInfo(UUID id, String name, VmStatus status, int vcpus, long memoryBytes, String program, long steps,
            int throttlePercent, Binding binding, boolean bindingApplied, String serialTail) {
        this(id, name, status, vcpus, memoryBytes, program, steps, throttlePercent, binding, bindingApplied, serialTail, 0);
    }
}
