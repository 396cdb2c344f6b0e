package io.ferryvm.core;

import io.ferryvm.core.machine.Binding;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.UUID;

/**
 * The SPI through which a host runs guests on a hypervisor other than the built-in one (QEMU/KVM in the
 * qemu-driver module). The built-in hypervisor is {@link Host} itself and stays the default: a host whose
 * configuration names {@code "builtin"} (or nothing) gets no driver from {@link #open}.
 */
public interface HypervisorDriver extends AutoCloseable {
    /** The built-in hypervisor's name. */
    String BUILTIN = "builtin";

    /** Short name, e.g. "qemu". */
    String name();

    /** What runs guest code on this host: "kvm", "tcg", ... (reported per host). */
    String accelerator();

    /** Starts a guest from its definition with the placement's pinning and memory policy; returns its status. */
    VmStatus start(VmSpec spec, Binding binding);

    VmStatus pause(UUID vm);

    VmStatus resume(UUID vm);

    /** Powers the guest off cleanly (disks flushed). */
    VmStatus stop(UUID vm);

    /** Kills the guest at once. */
    void destroy(UUID vm);

    VmStatus status(UUID vm);

    /** The end of the guest's serial console output, as {@link VmInfo#serialTail()} shows it ("" if the driver keeps none). */
    default String serialTail(UUID vm) {
        return "";
    }

    /** Destroys every guest this driver still runs. */
    @Override
    void close();

    /** Makes a driver for one host; found through {@link ServiceLoader} under its {@link #name()}. */
    interface Provider {
        String name();

        HypervisorDriver open(HostConfig host);
    }

    /**
     * The per-host selection hook: the driver named by the host's configuration, or empty for the built-in
     * hypervisor. An unknown name is an error that lists the drivers on the class path.
     */
    static Optional<HypervisorDriver> open(String name, HostConfig host) {
        if (name == null || name.isBlank() || BUILTIN.equals(name)) {
            return Optional.empty();
        }
        List<String> known = new ArrayList<>(List.of(BUILTIN));
        for (Provider p : ServiceLoader.load(Provider.class)) {
            if (p.name().equals(name)) {
                return Optional.of(p.open(host));
            }
            known.add(p.name());
        }
        throw new CoreException(CoreException.Kind.INVALID_SPEC,
                "host " + host.name() + ": no hypervisor driver '" + name + "' (available: " + known + ")");
    }
}
