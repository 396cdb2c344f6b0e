package io.ferryvm.core.machine;

import io.ferryvm.core.device.serial.SerialState;
import java.util.Arrays;

/**
 * Everything of a VM that is not memory: the vCPUs' register files and the devices. Saved while the
 * machine is paused; with the memory it resumes the guest exactly.
 */
public record MachineState(VcpuState[] vcpus, SerialState serial) {
    public MachineState {
        vcpus = vcpus.clone();
        for (int i = 0; i < vcpus.length; i++) {
            if (vcpus[i] == null || vcpus[i].index() != i) {
                throw new IllegalArgumentException("vCPU state " + i + " missing or out of order");
            }
        }
        java.util.Objects.requireNonNull(serial, "serial");
    }

    @Override
    public VcpuState[] vcpus() {
        return vcpus.clone();
    }

    public int vcpuCount() {
        return vcpus.length;
    }

    public long totalSteps() {
        long s = 0;
        for (VcpuState v : vcpus) {
            s += v.steps();
        }
        return s;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MachineState m && Arrays.equals(m.vcpus, vcpus) && m.serial.equals(serial);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(vcpus) * 31 + serial.hashCode();
    }

    @Override
    public String toString() {
        return "MachineState[" + Arrays.toString(vcpus) + ", " + serial + "]";
    }
}
