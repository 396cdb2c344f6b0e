package io.ferryvm.core;

import io.ferryvm.core.machine.Binding;
import java.util.UUID;

/** A snapshot of one VM on a host, for listings and APIs. */
public record VmInfo(UUID id, String name, VmStatus status, int vcpus, long memoryBytes, String program, long steps,
        int throttlePercent, Binding binding, boolean bindingApplied, String serialTail) {}
